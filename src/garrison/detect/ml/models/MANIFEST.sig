{
  "format": "garrison-manifest-signature/1",
  "key": "ed25519:e786f908a922a5dc",
  "signature": "dcca77f5479aa7ca5dede68d66fabc3e7e88d6b31ff4c4ccf6f1b3d71e70914132630baf3e05d4d9fbcdac0aec8766da56f647b225231f004f44a8efaa62d103"
}
