#!/usr/bin/env node
// The CLI lives in dist/, which the package ships built. In a checkout that has not been
// built yet, say what to run in one line instead of a module-resolution stack trace.
try {
  await import('../dist/cli.js');
} catch (error) {
  const missingBuild = error?.code === 'ERR_MODULE_NOT_FOUND' && /[\\/]dist[\\/]cli\.js'/.test(String(error.message));
  if (!missingBuild) throw error;
  console.error('tidings: dist/cli.js is missing: this checkout is not built yet (run npm run build, or npm run demo).');
  process.exit(2);
}
