/**
 * The file the CNI executables are bundled from (`brindle cni install`): it only starts the
 * plugin, so the bundle runs it when executed.
 */
import { runPluginProcess } from './plugin-main.js';

runPluginProcess();
