package dev.maskrcnn4j.cli;

import dev.maskrcnn4j.Device;
import dev.maskrcnn4j.MaskRcnnException;
import dev.maskrcnn4j.nativelib.NativeLibrary;
import java.util.Arrays;

/** Command line entry point of target/maskrcnn4j.jar. */
public final class Main {
    private Main() {
    }

    public static void main(String[] args) {
        String command = args.length == 0 ? "info" : args[0];
        try {
            switch (command) {
                case "info":
                    info();
                    break;
                case "demo":
                    Demo.run(args);
                    break;
                case "predict":
                    System.exit(PredictCommand.run(Arrays.copyOfRange(args, 1, args.length), System.out, System.err));
                    break;
                case "-h":
                case "--help":
                case "help":
                    usage();
                    break;
                default:
                    System.err.println("maskrcnn4j: unknown command '" + command + "' (try: info, predict, demo, help)");
                    System.exit(2);
            }
        } catch (MaskRcnnException e) {
            System.err.println("maskrcnn4j: " + e.getMessage());
            System.exit(1);
        }
    }

    private static void usage() {
        System.out.println("usage: java -jar maskrcnn4j.jar info | predict --weights FILE_OR_URL [options] IMAGE...");
        System.out.println("                                | demo [--device cpu|cuda|cuda-emulated] [--repeat N] [--small]");
        System.out.println("  info     devices, build configuration, why a device is unavailable");
        System.out.println("  predict  instance segmentation of images: COCO results JSON, overlay PNGs (predict --help)");
        System.out.println("  demo     the four core kernels on a synthetic 800x1216 Mask R-CNN workload, with timings");
    }

    private static void info() {
        NativeLibrary.load();
        System.out.println("maskrcnn4j native library: CUDA kernels " + (NativeLibrary.cudaBuilt() == 1
                ? "built (CUDA runtime " + formatVersion(NativeLibrary.cudaRuntimeVersion()) + ", statically linked)"
                : "not built (nvcc was not found at build time)"));
        for (Device d : Device.values()) {
            String reason = d.unavailableReason();
            System.out.println("  " + d.label() + ": " + (reason.isEmpty() ? "available" : "unavailable (" + reason + ")"));
        }
    }

    private static String formatVersion(int v) {
        return (v / 1000) + "." + (v % 1000) / 10;
    }
}
