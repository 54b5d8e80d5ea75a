package dev.rectok.train;

import dev.rectok.train.data.FashionMnist;
import java.nio.file.Path;
import org.junit.jupiter.api.Assumptions;

/**
 * Test data the suite needs. Missing data fails the test with the command that installs it; a run
 * that must go on without it says so explicitly with {@code -Drectok.test.allowMissingData=true}
 * (then the tests are reported as skipped, never passed).
 */
public final class TestData {
  /** The system property that turns a missing data set from a failure into a reported skip. */
  public static final String ALLOW_MISSING = "rectok.test.allowMissingData";

  private TestData() {}

  /** Debian's Fashion-MNIST ({@link FashionMnist#defaultDir()}), or a failure naming the fix. */
  public static Path fashionMnist() {
    return fashionMnist(FashionMnist.defaultDir());
  }

  /** {@code dir} when it holds Fashion-MNIST, else a failure (or a skip under the flag). */
  public static Path fashionMnist(Path dir) {
    if (FashionMnist.isAvailable(dir)) {
      return dir;
    }
    String msg =
        "Fashion-MNIST is not installed at "
            + dir
            + " (bin/setup installs it: apt-get install dataset-fashion-mnist; or set RECTOK_FASHION_MNIST)";
    if (Boolean.getBoolean(ALLOW_MISSING)) {
      Assumptions.abort(msg + "; skipped because -D" + ALLOW_MISSING + "=true");
    }
    throw new AssertionError(msg + ". -D" + ALLOW_MISSING + "=true skips these tests instead.");
  }
}
