package dev.maskrcnn4j.checkpoint;

import dev.maskrcnn4j.MaskRcnnException;
import java.nio.file.Path;
import java.util.List;

/**
 * A checkpoint could not be loaded or does not fit what was asked of it: unknown format, truncated
 * or corrupt file, a pickle global or opcode outside the whitelist, missing or unexpected keys,
 * wrong shapes or dtypes. The message always names the file and, when one is involved, the key.
 * {@link #problems()} lists every problem found (a validation reports all of them at once).
 */
public class CheckpointException extends MaskRcnnException {
    private final transient Path file;
    private final List<String> problems;

    public CheckpointException(Path file, String message) {
        this(file, message, (Throwable) null);
    }

    public CheckpointException(Path file, String message, Throwable cause) {
        super(file + ": " + message, cause);
        this.file = file;
        this.problems = List.of(message);
    }

    CheckpointException(Path file, String summary, List<String> problems) {
        super(file + ": " + summary);
        this.file = file;
        this.problems = List.copyOf(problems);
    }

    /** The checkpoint file the problem is in. */
    public Path file() {
        return file;
    }

    /** Every problem found, one line each, without the file name. */
    public List<String> problems() {
        return problems;
    }
}
