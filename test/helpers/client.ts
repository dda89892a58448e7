// The recording protocol client lives in the harness (harness/util/ws-client.ts: the model-based
// protocol tests run from `imstorm explore --model` too); tests use it as is.
export * from '../../harness/util/ws-client.ts';
