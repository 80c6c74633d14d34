/**
 * Selector composition, exactly as Calico's update processors do it
 * (`libcalico-go/lib/backend/syncersv1/updateprocessors/{networkpolicyprocessor,
 * globalnetworkpolicyprocessor,rules,selectors}.go`): the policy selector gains the namespace and
 * service-account clauses, and each EntityRule's selector/namespaceSelector/serviceAccounts become
 * one selector string. Produces strings; parsing into IP-set IDs happens in the rule parser.
 */
import type { EntityRule, ServiceAccountMatch } from '../api/types.js';
import { LABEL_NAMESPACE, LABEL_SERVICE_ACCOUNT, NAMESPACE_LABEL_PREFIX, SERVICE_ACCOUNT_LABEL_PREFIX } from '../api/types.js';
import { parseSelector } from '../selector/index.js';

/** Calico's `parseSelectorAttachPrefix`: canonical string with every label prefixed; '' if unparsable. */
export function prefixSelector(sel: string, prefix: string): string {
  try {
    return parseSelector(sel).withPrefix(prefix).canonical;
  } catch {
    return '';
  }
}

/**
 * An EntityRule part that cannot be composed (only reachable with values that bypassed validation):
 * Calico would drop that part and widen the rule; here it becomes a selector that does not parse,
 * so the rule parser rejects the rule and its policy fails closed.
 */
function unusable(field: string, value: unknown): string {
  return `<invalid ${field} ${JSON.stringify(value)}>`;
}

/** `prefixSelector` for an EntityRule field: an unparsable value stays unparsable (see `unusable`). */
function prefixRuleSelector(sel: unknown, prefix: string, field: string): string {
  const out = typeof sel === 'string' ? prefixSelector(sel, prefix) : '';
  return out === '' ? unusable(field, sel) : out;
}

function prefixAndAppend(current: string, extra: string | undefined, prefix: string): string {
  if (!extra) return current;
  const prefixed = prefixSelector(extra, prefix);
  if (prefixed === '') return current;
  return current !== '' ? `(${current}) && ${prefixed}` : prefixed;
}

/** The selector of a namespaced NetworkPolicy: `(<sel>) && ns == '<ns>'`, then `pcsa.` service accounts. */
export function namespacedPolicySelector(selector: string | undefined, namespace: string, saSelector?: string): string {
  const nsSel = `${LABEL_NAMESPACE} == '${namespace}'`;
  let sel = selector ? `(${selector}) && ${nsSel}` : nsSel;
  sel = prefixAndAppend(sel, saSelector, SERVICE_ACCOUNT_LABEL_PREFIX);
  return sel;
}

/** The selector of a GlobalNetworkPolicy: `pcns.` namespaceSelector and `pcsa.` serviceAccountSelector. */
export function globalPolicySelector(selector: string | undefined, namespaceSelector?: string, saSelector?: string): string {
  let sel = selector ?? '';
  if (namespaceSelector) {
    sel = prefixAndAppend(sel, namespaceSelector, NAMESPACE_LABEL_PREFIX);
    sel = sel.split('all()').join(`has(${LABEL_NAMESPACE})`);
  }
  if (saSelector) {
    sel = prefixAndAppend(sel, saSelector, SERVICE_ACCOUNT_LABEL_PREFIX);
    sel = sel.split('all()').join(`has(${LABEL_SERVICE_ACCOUNT})`);
  }
  return sel;
}

/** Calico's `parseServiceAccounts`: `pcsa.`-prefixed selector ANDed with `serviceaccount in {names}`. */
function serviceAccountSelector(sam: ServiceAccountMatch): string {
  let updated = '';
  if (sam.selector) updated = prefixRuleSelector(sam.selector, SERVICE_ACCOUNT_LABEL_PREFIX, 'serviceAccounts.selector');
  if (!sam.names || sam.names.length === 0) return updated;
  let names: string;
  try {
    if (!Array.isArray(sam.names) || !sam.names.every((n) => typeof n === 'string')) throw new Error('not a list of names');
    names = parseSelector(`${LABEL_SERVICE_ACCOUNT} in { '${sam.names.join("', '")}' }`).canonical;
  } catch {
    return unusable('serviceAccounts.names', sam.names);
  }
  return updated !== '' ? `(${updated}) && (${names})` : names;
}

/**
 * Calico's `GetEntityRuleSelector`: the positive selector for one side of a rule. The namespace
 * clause is ANDed in only when selector, notSelector or namespaceSelector is used, so a rule with
 * only `nets` in a namespaced policy is not limited to the namespace.
 */
export function entityRuleSelector(er: EntityRule | undefined, namespace: string | undefined): string {
  if (!er) return '';
  const saSel = er.serviceAccounts ? serviceAccountSelector(er.serviceAccounts) : '';
  let nsSel = '';
  if (er.namespaceSelector) {
    nsSel = prefixRuleSelector(er.namespaceSelector, NAMESPACE_LABEL_PREFIX, 'namespaceSelector');
    nsSel = nsSel.split('all()').join(`has(${LABEL_NAMESPACE})`);
    nsSel = nsSel.split('global()').join(`!has(${LABEL_NAMESPACE})`);
  } else if (namespace) {
    nsSel = `${LABEL_NAMESPACE} == '${namespace}'`;
  }
  const parts: string[] = [];
  if (saSel !== '') parts.push(saSel);
  if (er.selector) parts.push(er.selector);
  let sel = parts.length === 0 ? '' : parts.length === 1 ? parts[0]! : `(${parts.join(') && (')})`;
  if (nsSel !== '' && (sel !== '' || !!er.notSelector || !!er.namespaceSelector)) {
    sel = sel !== '' ? `(${nsSel}) && (${sel})` : nsSel;
  }
  return sel;
}
