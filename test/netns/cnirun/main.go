// cnirun drives a CNI network configuration list through Debian's libcni, the way container
// runtimes do (chaining, prevResult, the result cache): a stand-in for cnitool, which Debian
// does not ship. Built by the tests against /usr/share/gocode (golang-github-appc-cni-dev).
//
//	CNI_PATH=dir1:dir2 CNIRUN_CACHE_DIR=dir [CNIRUN_ARGS='K=V;K2=V2'] [CNIRUN_PORTS='[{...}]'] \
//	  cnirun add|check|del CONFLIST NETNS CONTAINERID IFNAME
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/containernetworking/cni/libcni"
)

func main() {
	if len(os.Args) != 6 {
		fmt.Fprintln(os.Stderr, "usage: cnirun add|check|del CONFLIST NETNS CONTAINERID IFNAME")
		os.Exit(2)
	}
	verb, file, netns, id, ifname := os.Args[1], os.Args[2], os.Args[3], os.Args[4], os.Args[5]
	list, err := libcni.ConfListFromFile(file)
	if err != nil {
		fail(err)
	}
	cni := libcni.NewCNIConfigWithCacheDir(filepath.SplitList(os.Getenv("CNI_PATH")), os.Getenv("CNIRUN_CACHE_DIR"), nil)
	rt := &libcni.RuntimeConf{ContainerID: id, NetNS: netns, IfName: ifname, CapabilityArgs: map[string]interface{}{}}
	for _, kv := range strings.Split(os.Getenv("CNIRUN_ARGS"), ";") {
		if k, v, ok := strings.Cut(kv, "="); ok {
			rt.Args = append(rt.Args, [2]string{k, v})
		}
	}
	if ports := os.Getenv("CNIRUN_PORTS"); ports != "" {
		var pm []map[string]interface{}
		if err := json.Unmarshal([]byte(ports), &pm); err != nil {
			fail(err)
		}
		rt.CapabilityArgs["portMappings"] = pm
	}
	ctx := context.Background()
	switch verb {
	case "add":
		res, err := cni.AddNetworkList(ctx, list, rt)
		if err != nil {
			fail(err)
		}
		if err := res.Print(); err != nil {
			fail(err)
		}
	case "check":
		if err := cni.CheckNetworkList(ctx, list, rt); err != nil {
			fail(err)
		}
	case "del":
		if err := cni.DelNetworkList(ctx, list, rt); err != nil {
			fail(err)
		}
	default:
		fail(fmt.Errorf("unknown verb %q", verb))
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "cnirun:", err)
	os.Exit(1)
}
