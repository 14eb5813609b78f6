// The server's problems (from the last save) shown by bpmnlint's overlays next to its own rules, as the rule
// `app/server-check`: one overlay on the canvas says everything that would refuse publication.
const problems = new Map(); // element id → [message]

export function setServerProblems(list) {
  problems.clear();
  (list || []).forEach((problem) => {
    if (!problem.element_id) { return; }
    const messages = problems.get(problem.element_id) || [];
    messages.push(problem.message);
    problems.set(problem.element_id, messages);
  });
}

function serverCheck() {
  return {
    check(node, reporter) {
      (problems.get(node.id) || []).forEach((message) => reporter.report(node.id, message));
    }
  };
}

export function serverLintConfig(packed) {
  const resolver = {
    resolveRule(pkg, name) {
      return pkg === 'bpmnlint-plugin-app' && name === 'server-check' ? serverCheck : packed.resolver.resolveRule(pkg, name);
    },
    resolveConfig(pkg, name) { return packed.resolver.resolveConfig(pkg, name); }
  };
  return { resolver, config: { rules: { ...packed.config.rules, 'app/server-check': 'error' } } };
}
