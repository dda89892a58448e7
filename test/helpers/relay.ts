// The TCP relay lives in the harness (harness/util/tcp-relay.ts); tests use it as is.
export * from '../../harness/util/tcp-relay.ts';
