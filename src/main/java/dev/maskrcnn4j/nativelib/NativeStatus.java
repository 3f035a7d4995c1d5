package dev.maskrcnn4j.nativelib;

import dev.maskrcnn4j.DeviceUnavailableException;
import dev.maskrcnn4j.InvalidArgumentException;
import dev.maskrcnn4j.NativeException;

/** Turns mrcnn status codes (native/include/mrcnn/api.h) into typed Java exceptions. */
public final class NativeStatus {
    public static final int OK = 0;
    public static final int INVALID_ARGUMENT = 1;
    public static final int UNSUPPORTED = 2;
    public static final int NOT_BUILT_WITH_CUDA = 3;
    public static final int NO_CUDA_DEVICE = 4;
    public static final int CUDA_ERROR = 5;
    public static final int OUT_OF_MEMORY = 6;
    public static final int WORKSPACE_TOO_SMALL = 7;
    public static final int EMULATION = 8;
    public static final int INTERNAL = 9;

    static {
        NativeLibrary.load();
    }

    private NativeStatus() {
    }

    /** Throws unless status is OK; the message names the operation and the native detail. */
    public static void check(int status, String operation) {
        if (status == OK) {
            return;
        }
        throw exception(status, operation);
    }

    /** The exception for a failed status, with the calling thread's native detail message. */
    public static RuntimeException exception(int status, String operation) {
        String detail = NativeLibrary.lastError();
        String message = operation + " failed: " + NativeLibrary.statusString(status)
                + (detail == null || detail.isEmpty() ? "" : " (" + detail + ")");
        switch (status) {
            case INVALID_ARGUMENT:
                return new InvalidArgumentException(message);
            case NOT_BUILT_WITH_CUDA:
            case NO_CUDA_DEVICE:
                return new DeviceUnavailableException(message);
            default:
                return new NativeException(status, message);
        }
    }

    /** The detail message of the last failing native call on this thread. */
    public static String lastError() {
        return NativeLibrary.lastError();
    }
}
