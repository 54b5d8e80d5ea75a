package dev.rectok.train.teacher;

import dev.rectok.api.Device;
import dev.rectok.models.ModelFile;
import dev.rectok.models.dinov3.DinoV3Weights;
import dev.rectok.torch.io.SafeTensorsFile;
import dev.rectok.train.loss.FeatureTeacher;
import dev.rectok.train.loss.PrecomputedTeacher;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

/**
 * Opens the stage-1 teacher a path names, choosing by what the file is:
 *
 * <ul>
 *   <li>a folder: precomputed feature shards ({@link PrecomputedTeacher}, the shards {@code rectok
 *       teacher-features} writes);
 *   <li>a {@code .pth}: official DINOv3 weights ({@link DinoV3Teacher});
 *   <li>a safetensors file: a teacher model file — DINOv3 when its config says {@code
 *       "architecture": "dinov3"}, else the demo's ViT ({@link VitTeacher}) — or a plain state dict
 *       in either DINOv3 layout (transformers {@code model.safetensors}).
 * </ul>
 *
 * Stateless and thread-safe.
 */
public final class TeacherFiles {
  private TeacherFiles() {}

  /**
   * An opened teacher.
   *
   * @param teacher the teacher (owned by the caller)
   * @param width its feature width, or 0 when only the features will tell (precomputed shards)
   * @param kind {@code precomputed}, {@code dinov3} or {@code vit}
   */
  public record Opened(FeatureTeacher teacher, int width, String kind) {}

  /**
   * Opens {@code path} for training on {@code device}.
   *
   * @throws NoSuchFileException when nothing is there (naming where the DINOv3 weights are
   *     published)
   * @throws IOException when the file is unreadable or is no teacher
   */
  public static Opened open(Path path, Device device) throws IOException {
    if (Files.isDirectory(path)) {
      List<Path> shards;
      try (Stream<Path> files = Files.list(path)) {
        shards = files.filter(p -> p.toString().endsWith(".safetensors")).sorted().toList();
      }
      if (shards.isEmpty()) {
        throw new NoSuchFileException(
            path.toString(),
            null,
            "the folder holds no feature shards (*.safetensors):"
                + " write them with 'rectok teacher-features'");
      }
      return new Opened(new PrecomputedTeacher(shards), 0, "precomputed");
    }
    if (!Files.exists(path)) {
      throw new NoSuchFileException(
          path.toString(), null, "no such teacher file; " + DinoV3Weights.where());
    }
    if (isDinoV3(path)) {
      DinoV3Teacher t = DinoV3Teacher.load(path, device);
      return new Opened(t, t.width(), "dinov3");
    }
    VitTeacher vit = VitTeacher.load(path);
    try {
      return new Opened(vit.asFeatureTeacher(), vit.config().width(), "vit");
    } catch (RuntimeException e) {
      vit.close();
      throw e;
    }
  }

  /** Whether {@code file} holds DINOv3 weights (any layout); reads only the header. */
  public static boolean isDinoV3(Path file) throws IOException {
    String name = file.getFileName().toString();
    if (name.endsWith(".pth") || name.endsWith(".pt")) {
      return true;
    }
    try (SafeTensorsFile f = ModelFile.open(file)) {
      if (f.metadata().containsKey(ModelFile.KIND)) {
        return DinoV3Weights.isDinoV3Config(ModelFile.header(f).config());
      }
      return f.contains("cls_token") || f.contains("embeddings.cls_token");
    }
  }
}
