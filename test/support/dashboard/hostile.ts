// Text strangers can put in front of the dashboard's viewer: a browser registers any
// topic value, a site stores any user name, a push service answers anything. Each one
// would run script if it reached the page as markup, a link or a template.

/** Set by any payload that runs: the tests read it from every page. */
export const PWNED = '__tidingsPwned';

export const hostileTexts = [
  `<script>window.${PWNED}=1</script>`,
  `<img src=x onerror="window.${PWNED}=2">`,
  `"><svg onload="window.${PWNED}=3">`,
  `<svg><script>window.${PWNED}=4</script></svg>`,
  `javascript:window.${PWNED}=5`,
  `{{constructor.constructor('window.${PWNED}=6')()}}`,
  `\${window.${PWNED}=7}`,
  `<a href="javascript:window.${PWNED}=8">click</a>`,
  `<iframe srcdoc="<script>parent.${PWNED}=9</script>">`,
  `<math><mtext><table><mglyph><style><img src=x onerror="window.${PWNED}=10">`,
  `data:text/html,<script>window.${PWNED}=11</script>`,
  `<style>@import 'https://evil.example/x.css';</style>`,
] as const;

/** URLs a message may carry that must never become links. */
export const hostileUrls = [`javascript:window.${PWNED}=20`, `data:text/html,<script>window.${PWNED}=21</script>`, 'https://evil.example/phish', 'vbscript:msgbox(1)'];

/** The hostile text at `i`, cycling. */
export const hostile = (i: number): string => hostileTexts[i % hostileTexts.length]!;
