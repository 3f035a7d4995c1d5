package dev.maskrcnn4j.memory;

import dev.maskrcnn4j.MaskRcnnException;
import java.util.List;

/** A scope was closed while it still owned buffers; they have been freed, and are listed here. */
public final class LeakedBuffersException extends MaskRcnnException {
    private final List<String> buffers;

    LeakedBuffersException(String scope, List<String> buffers) {
        super("scope " + scope + " closed with " + buffers.size() + " live buffer(s): " + String.join(", ", buffers));
        this.buffers = List.copyOf(buffers);
    }

    public List<String> buffers() {
        return buffers;
    }
}
