package com.example.app;

import dev.rectok.api.Backends;
import dev.rectok.api.Device;
import dev.rectok.api.GenerateOptions;
import dev.rectok.api.Generator;
import dev.rectok.api.ImageFit;
import dev.rectok.api.Latents;
import dev.rectok.api.Progress;
import dev.rectok.api.Tokenizer;
import dev.rectok.demomodels.FashionMnistModels;
import java.awt.image.BufferedImage;
import java.util.List;

public final class Main {
  public static void main(String[] args) throws Exception {
    ClassLoader models = FashionMnistModels.loader();
    try (Tokenizer tok = Backends.openTokenizerResource(FashionMnistModels.TOKENIZER, models, Device.CPU);
         Generator gen = Backends.openGeneratorResource(FashionMnistModels.GENERATOR, FashionMnistModels.GUIDE,
             models, Device.CPU)) {
      gen.compatibility(tok).require();
      BufferedImage gray = new BufferedImage(28, 28, BufferedImage.TYPE_BYTE_GRAY);
      BufferedImage rec = tok.reconstruct(gray, ImageFit.RESIZE);      // same size and type back
      Latents z = gen.sample(new long[] {7}, 0, GenerateOptions.builder().gridPoints(9).autoGuidance().build(),
          Progress.NONE);
      BufferedImage sneaker = tok.decode(z).getFirst();
      if (rec.getWidth() != 28 || rec.getType() != BufferedImage.TYPE_BYTE_GRAY || sneaker.getWidth() != tok.imageSize()) {
        throw new AssertionError("unexpected image sizes or types");
      }
      System.out.println("backend=" + Backends.load().name());
      System.out.println("reconstructed=" + rec.getWidth() + "x" + rec.getHeight() + " type " + rec.getType());
      System.out.println("generated=" + sneaker.getWidth() + "x" + sneaker.getHeight());
      System.out.println("liveTensors=" + Backends.load().nativeMemory().liveTensors());
    }
  }
}
