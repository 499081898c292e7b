{
  "format": "garrison-manifest-signature/1",
  "key": "ed25519:e786f908a922a5dc",
  "signature": "dfcd0bfc9e5d03c026e6a679ca1e30a456897e23e8bd8fb02899dff48bb0975b8e954ef006599cf1af04d6f937b417fec06eecd42bf8e903850417c58304e102"
}
