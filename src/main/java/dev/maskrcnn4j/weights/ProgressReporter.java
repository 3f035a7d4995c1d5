package dev.maskrcnn4j.weights;

import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/**
 * Download progress on a stream (stderr): either a bar redrawn in place (bytes, percentage, rate,
 * time left) for a terminal, or plain lines at start and end (and on resume/retry) for logs.
 * Thread-safe: the bar is advanced from the HTTP client's threads.
 */
final class ProgressReporter {
    private static final long REDRAW_NANOS = 100_000_000L;
    private static final int BAR_CELLS = 24;

    private final PrintStream out;
    private final boolean bar;
    private final boolean silent;
    private final String name;

    private long total = -1;
    private long startBytes;
    private long startNanos;
    private long lastDraw;
    private int lastWidth;
    private boolean drawn;

    private ProgressReporter(PrintStream out, boolean bar, boolean silent, String name) {
        this.out = out;
        this.bar = bar;
        this.silent = silent;
        this.name = name;
    }

    static ProgressReporter create(WeightsCache.Progress mode, PrintStream stream, String name) {
        PrintStream out = stream != null ? stream : System.err;
        return switch (mode) {
            case NONE -> new ProgressReporter(out, false, true, name);
            case LINES -> new ProgressReporter(out, false, false, name);
            case BAR -> new ProgressReporter(out, true, false, name);
            case AUTO -> new ProgressReporter(out, stream == null && stderrIsTerminal(), false, name);
        };
    }

    /** Whether file descriptor 2 is a terminal (Linux: /proc/self/fd/2 points at a tty device). */
    static boolean stderrIsTerminal() {
        try {
            String target = Files.readSymbolicLink(Path.of("/proc/self/fd/2")).toString();
            return target.startsWith("/dev/pts/") || target.startsWith("/dev/tty") || target.equals("/dev/console");
        } catch (Exception e) {
            return false;
        }
    }

    synchronized void line(String message) {
        if (silent) {
            return;
        }
        endBar();
        out.println(message);
        out.flush();
    }

    /** A new transfer (attempt) begins: {@code have} bytes are already on disk, {@code total} is the size or -1. */
    synchronized void begin(long have, long total) {
        this.startBytes = have;
        this.total = total;
        this.startNanos = System.nanoTime();
        this.lastDraw = 0;
        if (bar && !silent) {
            draw(have, true);
        }
    }

    /** {@code bytes} of the file are on disk. */
    synchronized void advance(long bytes) {
        if (!bar || silent) {
            return;
        }
        draw(bytes, false);
    }

    /** The transfer is over (finished or failed): completes the bar's line. */
    synchronized void end(long bytes) {
        if (bar && !silent && drawn) {
            draw(bytes, true);
        }
        endBar();
    }

    private void endBar() {
        if (drawn) {
            out.println();
            out.flush();
            drawn = false;
            lastWidth = 0;
        }
    }

    private void draw(long bytes, boolean force) {
        long now = System.nanoTime();
        if (!force && now - lastDraw < REDRAW_NANOS) {
            return;
        }
        lastDraw = now;
        double seconds = (now - startNanos) / 1e9;
        double rate = seconds > 0.05 ? (bytes - startBytes) / seconds : 0;
        StringBuilder sb = new StringBuilder(100);
        sb.append(name).append(' ');
        if (total > 0) {
            double f = Math.min(1.0, bytes / (double) total);
            int filled = (int) (f * BAR_CELLS);
            sb.append(String.format(Locale.ROOT, "%3d%% [", (int) (f * 100)));
            for (int i = 0; i < BAR_CELLS; i++) {
                sb.append(i < filled ? '=' : (i == filled ? '>' : ' '));
            }
            sb.append("] ").append(size(bytes)).append(" / ").append(size(total));
        } else {
            sb.append(size(bytes));
        }
        if (rate > 0) {
            sb.append("  ").append(size((long) rate)).append("/s");
            if (total > 0 && bytes < total) {
                sb.append("  ").append(duration((total - bytes) / rate)).append(" left");
            }
        }
        String text = sb.toString();
        int pad = Math.max(0, lastWidth - text.length());
        out.print('\r' + text + " ".repeat(pad));
        out.flush();
        lastWidth = text.length();
        drawn = true;
    }

    static String size(long bytes) {
        if (bytes < 1024) {
            return bytes + " B";
        }
        double v = bytes;
        String[] units = {"KiB", "MiB", "GiB", "TiB"};
        int u = -1;
        while (v >= 1024 && u < units.length - 1) {
            v /= 1024;
            u++;
        }
        return String.format(Locale.ROOT, "%.1f %s", v, units[u]);
    }

    static String duration(double seconds) {
        long s = Math.round(seconds);
        if (s < 60) {
            return s + "s";
        }
        if (s < 3600) {
            return String.format(Locale.ROOT, "%dm%02ds", s / 60, s % 60);
        }
        return String.format(Locale.ROOT, "%dh%02dm", s / 3600, (s % 3600) / 60);
    }
}
