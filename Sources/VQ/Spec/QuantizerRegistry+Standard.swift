extension QuantizerRegistry {
  /// Every built-in method, in the order `vq specs` lists them.
  public static let standard = QuantizerRegistry(methods: [
    Float32Format.method,
    HalfFloatFormat.float16Method,
    HalfFloatFormat.bfloat16Method,
    FP8Format.e4m3Method,
    FP8Format.e5m2Method,
    IntFormat.method,
    FP4Format.method,
    MXFP4Format.method,
    NVFP4Format.method,
    SignFormat.method,
    EDEN.method,
    TurboQuantMSE.method,
    TurboQuantProd.method,
    QJL.method,
    RaBitQ.method,
    ASQQuantizer.method,
    ASQQuantizer.qsgdMethod,
    BlockQuant.method,
    E8P.method,
    E8Voronoi.method,
    QuantizedRandomProjection.method,
  ])
}
