// HTTP calls against a node live in the harness (harness/util/http-api.ts); tests use them as is.
export * from '../../harness/util/http-api.ts';
