package dev.rectok.cli;

import dev.rectok.torch.Scope;
import dev.rectok.train.classifier.ClassifierTraining;
import dev.rectok.train.data.FashionMnist;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code rectok demo}: the main job on embedded defaults. Until the tokenizer and generator land
 * it runs the doctor and trains a small classifier on Fashion-MNIST, end to end on the SDK.
 */
@Command(name = "demo", description = "Run the doctor, then train an MLP on Fashion-MNIST and print its test accuracy.")
final class DemoCommand implements Callable<Integer> {
  @Option(names = "--data", description = "Fashion-MNIST folder (default: ${DEFAULT-VALUE})")
  Path data = FashionMnist.defaultDir();

  @Option(names = "--train-samples", description = "training samples (default: ${DEFAULT-VALUE})")
  int trainSamples = 20_000;

  @Option(names = "--test-samples", description = "test samples (default: ${DEFAULT-VALUE})")
  int testSamples = 10_000;

  @Option(names = "--epochs", description = "epochs (default: ${DEFAULT-VALUE})")
  int epochs = 3;

  @Option(names = "--seed", description = "seed (default: ${DEFAULT-VALUE})")
  long seed = 0;

  @Override
  public Integer call() throws Exception {
    new DoctorCommand().call();
    System.out.println();
    long t0 = System.nanoTime();
    FashionMnist train = FashionMnist.load(data, true, trainSamples);
    FashionMnist test = FashionMnist.load(data, false, testSamples);
    System.out.printf("Fashion-MNIST: %d train / %d test images from %s%n", train.count(), test.count(), data);
    ClassifierTraining.Config cfg = ClassifierTraining.Config.builder().epochs(epochs).seed(seed).build();
    try (Scope s = Scope.open()) {
      ClassifierTraining.Result r = ClassifierTraining.run(cfg, train.imagesTensor(), train.labelsTensor(),
          test.imagesTensor(), test.labelsTensor(), FashionMnist.CLASSES.size(), new ConsoleProgress(System.err));
      for (int e = 0; e < r.epochLoss().size(); e++) {
        System.out.printf("epoch %d: mean training loss %.4f%n", e + 1, r.epochLoss().get(e));
      }
      System.out.printf("MLP (784-%d-10, AdamW, %d steps): test accuracy %.2f%% in %.1f s%n", cfg.hidden(), r.steps(),
          100 * r.testAccuracy(), (System.nanoTime() - t0) / 1e9);
    }
    return 0;
  }
}
