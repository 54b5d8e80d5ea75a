/**
 * The Fashion-MNIST demo models as class-path resources (see {@link
 * dev.rectok.demomodels.FashionMnistModels}). The resources live outside any package, so they are
 * readable from every module.
 */
module dev.rectok.demomodels {
  exports dev.rectok.demomodels;
}
