package dev.rectok.data;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ImageListTest {
  private static void touch(Path root, String... rel) throws IOException {
    for (String r : rel) {
      Path p = root.resolve(r);
      Files.createDirectories(p.getParent());
      Files.write(p, new byte[] {1});
    }
  }

  @Test
  void folderDiscoveryIsRecursiveCaseInsensitiveFilteredAndSorted(@TempDir Path dir)
      throws IOException {
    touch(
        dir,
        "n02/c.Jpg",
        "n01/sub/deeper/b.png",
        "n01/a.JPEG",
        "z.bmp",
        "e.GIF",
        "n01/notes.txt",
        "f.webp",
        "n01/noext",
        "n03/.png",
        "n02/a.jpeg");
    ImageList list = ImageList.fromFolder(dir);
    assertThat(list.names())
        .containsExactly(
            "e.GIF", "n01/a.JPEG", "n01/sub/deeper/b.png", "n02/a.jpeg", "n02/c.Jpg", "z.bmp");
    assertThat(list.size()).isEqualTo(6);
    assertThat(list.get(2))
        .isEqualTo(dir.toAbsolutePath().normalize().resolve("n01/sub/deeper/b.png"));
    assertThat(list.files()).allSatisfy(p -> assertThat(p).isRegularFile());
    assertThat(list.root()).isEqualTo(dir.toAbsolutePath().normalize());
  }

  @Test
  void identityDependsOnTheRelativePathsOnly(@TempDir Path dir) throws IOException {
    touch(dir, "a/x/1.png", "a/y/2.jpg");
    touch(dir, "b/x/1.png", "b/y/2.jpg");
    String a = ImageList.fromFolder(dir.resolve("a")).identity();
    assertThat(ImageList.fromFolder(dir.resolve("b")).identity()).isEqualTo(a).startsWith("2:");
    touch(dir, "b/y/3.jpg");
    assertThat(ImageList.fromFolder(dir.resolve("b")).identity()).isNotEqualTo(a).startsWith("3:");
  }

  @Test
  void fileListResolvesAgainstItsFolderAndIgnoresCommentsAndBlankLines(@TempDir Path dir)
      throws IOException {
    Path abs = dir.resolve("elsewhere/abs.png").toAbsolutePath();
    Path listFile = dir.resolve("lists/train.txt");
    Files.createDirectories(listFile.getParent());
    Files.writeString(
        listFile,
        String.join(
            "\n",
            "# ImageNet subset",
            "",
            "n01/b.JPEG",
            "   ",
            "  n01/a.jpeg  ",
            "#n02/skipped.png",
            "../top.png",
            abs.toString(),
            ""));
    ImageList list = ImageList.fromFileList(listFile);
    Path base = dir.toAbsolutePath().normalize().resolve("lists");
    assertThat(list.files())
        .containsExactly(
            base.resolve("n01/b.JPEG"),
            base.resolve("n01/a.jpeg"),
            dir.toAbsolutePath().normalize().resolve("top.png"),
            abs);
    assertThat(list.names()).hasSize(4).first().isEqualTo("n01/b.JPEG");
    assertThat(ImageList.open(listFile).files()).isEqualTo(list.files());
    touch(dir, "tree/k/x.png");
    assertThat(ImageList.open(dir.resolve("tree")).names()).isEqualTo(List.of("k/x.png"));
  }

  @Test
  void missingSourcesFailWithAClearMessage(@TempDir Path dir) throws IOException {
    assertThatThrownBy(() -> ImageList.fromFolder(dir.resolve("nope")))
        .isInstanceOf(IOException.class)
        .hasMessageContaining("image folder not found")
        .hasMessageContaining("nope");
    assertThatThrownBy(() -> ImageList.fromFileList(dir.resolve("missing.txt")))
        .isInstanceOf(IOException.class)
        .hasMessageContaining("image list file not found")
        .hasMessageContaining("missing.txt");
    Path file = Files.writeString(dir.resolve("a.txt"), "x.png");
    assertThatThrownBy(() -> ImageList.fromFolder(file))
        .isInstanceOf(IOException.class)
        .hasMessageContaining("not a folder");
    assertThatThrownBy(() -> ImageList.fromFileList(dir)).isInstanceOf(IOException.class);
    assertThat(ImageList.fromFolder(Files.createDirectory(dir.resolve("empty"))).size()).isZero();
  }

  @Test
  void extensionsAreMatchedIgnoringCase() {
    assertThat(ImageList.isImageName("a.JpEg")).isTrue();
    assertThat(ImageList.isImageName("a.tar.png")).isTrue();
    assertThat(ImageList.isImageName("png")).isFalse();
    assertThat(ImageList.isImageName(".png")).isFalse();
    assertThat(ImageList.isImageName("a.png.txt")).isFalse();
    assertThat(ImageList.isImageName("a.tif")).isFalse();
  }
}
