extension QuantizerRegistry {
  /// Every built-in method, in the order `vq specs` lists them.
  public static let standard = QuantizerRegistry(methods: [
    Float32Format.method,
    EDEN.method,
    TurboQuantMSE.method,
    TurboQuantProd.method,
    QJL.method,
  ])
}
