{
  "format": "garrison-manifest-signature/1",
  "key": "ed25519:e786f908a922a5dc",
  "signature": "eb7867df33a34aade5734a6d49020ca19b100118b0a50054714bd7e979ba06980b4bfcde740566515e6eabfb9fc9d5e0036ae1aa383087ab32a509eed361cc08"
}
