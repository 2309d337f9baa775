#!/bin/sh
# Makes a demo mesh CA and SPIFFE workload certificates for the HBONE example, with openssl only
# (no network). Usage: examples/hbone/make-certs.sh [DIR]   (default: examples/hbone/certs)
#
#   ca.pem                     the mesh CA (trust domain cluster.local)
#   client.pem / client.key    spiffe://cluster.local/ns/default/sa/client   (the client-side proxy)
#   server.pem / server.key    spiffe://cluster.local/ns/default/sa/server   (the server-side proxy)
#   intruder.pem / .key        spiffe://cluster.local/ns/other/sa/intruder   (a workload the server refuses)
set -eu
dir=${1:-$(dirname "$0")/certs}
mkdir -p "$dir"
cd "$dir"
days=365
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca.key -out ca.pem -days "$days" \
  -subj "/O=cluster.local/CN=demo mesh CA" -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null
leaf() {
  name=$1 identity=$2
  printf 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth,clientAuth\nsubjectAltName=URI:%s\n' "$identity" >"$name.ext"
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$name.key" -out "$name.csr" -subj "/O=cluster.local/CN=$name" 2>/dev/null
  openssl x509 -req -in "$name.csr" -CA ca.pem -CAkey ca.key -CAcreateserial -out "$name.pem" -days "$days" -extfile "$name.ext" 2>/dev/null
  rm -f "$name.csr" "$name.ext"
}
leaf client spiffe://cluster.local/ns/default/sa/client
leaf server spiffe://cluster.local/ns/default/sa/server
leaf intruder spiffe://cluster.local/ns/other/sa/intruder
echo "certificates in $dir"
