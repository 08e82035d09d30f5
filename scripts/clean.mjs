// Empties dist/ and build/ before a build, so a file that is no longer built (a renamed
// entry, an old map) cannot linger and ship in the tarball.
import { rmSync } from 'node:fs';

for (const dir of ['dist', 'build']) rmSync(new URL(`../${dir}`, import.meta.url), { recursive: true, force: true });
