// The process registry lives in the harness (harness/env/procs.ts); tests use it as is.
export { exited, freePort, killAll, liveChildren, onExit, sleep, track, waitUntil } from '../../harness/env/procs.ts';
