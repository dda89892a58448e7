#!/bin/sh
# A --token-cmd for `imstorm run --target` (README "Against a deployment you did not start"):
# prints one HS256 JWT for IMSTORM_USER on IMSTORM_DEVICE, valid 2 hours, signed with
# JWT_SECRET — the shape PROTOCOL.md "Tokens" asks for. Your own would call your identity
# service instead; imstorm only needs one token on stdout, for that sub and dev.
set -eu
: "${IMSTORM_USER:?set by imstorm}" "${IMSTORM_DEVICE:?set by imstorm}" "${JWT_SECRET:?the deployment secret}"
b64url() { base64 -w0 | tr '+/' '-_' | tr -d '='; }
header=$(printf '{"alg":"HS256","typ":"JWT"}' | b64url)
payload=$(printf '{"sub":"%s","dev":"%s","exp":%d}' "$IMSTORM_USER" "$IMSTORM_DEVICE" $(($(date +%s) + 7200)) | b64url)
sig=$(printf '%s.%s' "$header" "$payload" | openssl dgst -sha256 -hmac "$JWT_SECRET" -binary | b64url)
printf '%s.%s.%s\n' "$header" "$payload" "$sig"
