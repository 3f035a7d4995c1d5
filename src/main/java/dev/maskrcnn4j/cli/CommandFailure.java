package dev.maskrcnn4j.cli;

/**
 * An expected failure of a command: its message is the one line printed after "maskrcnn4j: ",
 * and it carries the exit code (2 for a wrong command line, 1 for anything else).
 */
final class CommandFailure extends Exception {
    private static final long serialVersionUID = 1L;

    static final int USAGE = 2;
    static final int FAILURE = 1;

    private final int exitCode;

    private CommandFailure(String message, int exitCode) {
        super(message, null, false, false);
        this.exitCode = exitCode;
    }

    /** The command line is wrong: unknown option, missing or malformed value. */
    static CommandFailure usage(String message) {
        return new CommandFailure(message, USAGE);
    }

    /** A file, device or the model failed. */
    static CommandFailure failure(String message) {
        return new CommandFailure(message, FAILURE);
    }

    int exitCode() {
        return exitCode;
    }

    /** {@code message} on one line: line breaks of nested messages become "; ". */
    static String oneLine(String message) {
        if (message == null || message.isBlank()) {
            return "(no details)";
        }
        return message.strip().replaceAll("\\s*\\R\\s*", "; ");
    }
}
