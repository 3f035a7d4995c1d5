/**
 * Ops: one class per native op, each binding its own {@code mrcnn_<backend>_<op>} functions.
 *
 * <p>The pattern every op class follows (see {@link dev.maskrcnn4j.nativelib.DeviceRuntime} for a
 * complete binding):
 * <pre>{@code
 * @Platform(include = "mrcnn/roi_align.h", library = NativeLibrary.NAME)
 * public final class RoiAlign {
 *     static { NativeLibrary.load(); }
 *     private RoiAlign() { }
 *
 *     public static void roiAlign(Tensor input, Tensor rois, ..., Tensor output) {
 *         // 1. validate everything (dtype, rank, shapes, same device, contiguity, NaN boxes, ...)
 *         //    and throw InvalidArgumentException naming the argument: no input may reach native
 *         //    code in a state that could crash the JVM. Empty inputs return a defined result.
 *         // 2. dispatch on the device: the three backends share one C signature
 *         int status;
 *         switch (input.device()) {
 *             case CPU: status = cpu(input.address(), ...); break;
 *             case CUDA: status = cuda(input.address(), ...); break;
 *             default: status = emulated(input.address(), ...); break;
 *         }
 *         NativeStatus.check(status, "roi_align");
 *     }
 *
 *     @Name("mrcnn_cpu_roi_align")
 *     private static native int cpu(@Cast("const float*") long input, int n, ..., @Cast("void*") long stream);
 *     @Name("mrcnn_cuda_roi_align") private static native int cuda(...same...);
 *     @Name("mrcnn_emu_roi_align")  private static native int emulated(...same...);
 * }
 * }</pre>
 * Device addresses travel as {@code long} with {@code @Cast("T*")}; host arrays of pointers as
 * {@code @Cast("const float* const*") long[]}; {@code size_t} as {@code @Cast("size_t") long}.
 * Streams are passed as 0 (the default stream) for now. Workspaces and outputs are tensors the
 * caller allocates from a {@link dev.maskrcnn4j.memory.Scope}.
 */
package dev.maskrcnn4j.ops;
