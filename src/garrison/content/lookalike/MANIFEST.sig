{
  "format": "garrison-manifest-signature/1",
  "key": "ed25519:e786f908a922a5dc",
  "signature": "8aae64ff7b1ed5420827a681a527653b557c56c2a8354ce6a99473c83724c94bc460b725b5f35a8f5e1cb9198e19a4ea9d3644d99d32d9795ae22e47b1f71106"
}
