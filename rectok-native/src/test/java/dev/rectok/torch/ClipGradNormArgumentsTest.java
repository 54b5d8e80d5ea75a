package dev.rectok.torch;

import static org.assertj.core.api.Assertions.assertThat;

import dev.rectok.torch.internal.CallFrame;
import dev.rectok.torch.internal.Shim;
import java.lang.foreign.MemorySegment;
import org.junit.jupiter.api.Test;

/**
 * {@code rt_clip_grad_norm_} refuses a NULL parameter list or a negative count with a status and a
 * message, like the other optimizer entry points, instead of dereferencing it (which took the JVM
 * down).
 */
class ClipGradNormArgumentsTest {

  @Test
  void aNullParameterListIsAnArgumentError() throws Throwable {
    CallFrame f = CallFrame.get();
    int status =
        (int)
            Shim.rt_clip_grad_norm_.MH.invokeExact(f.ctx, MemorySegment.NULL, 2L, 1.0, 2.0, f.out);
    assertThat(status).isEqualTo(Shim.RT_ERR_ARG);
    assertThat(f.error()).contains("NULL parameter list");
  }

  @Test
  void aNegativeCountIsAnArgumentError() throws Throwable {
    CallFrame f = CallFrame.get();
    int status =
        (int)
            Shim.rt_clip_grad_norm_.MH.invokeExact(f.ctx, MemorySegment.NULL, -1L, 1.0, 2.0, f.out);
    assertThat(status).isEqualTo(Shim.RT_ERR_ARG);
  }

  @Test
  void anEmptyListStillReportsANormOfZero() throws Throwable {
    CallFrame f = CallFrame.get();
    int status =
        (int)
            Shim.rt_clip_grad_norm_.MH.invokeExact(f.ctx, MemorySegment.NULL, 0L, 1.0, 2.0, f.out);
    assertThat(status).isEqualTo(Shim.RT_OK);
    assertThat(f.out.get(java.lang.foreign.ValueLayout.JAVA_DOUBLE, 0)).isEqualTo(0.0);
  }
}
