package dev.maskrcnn4j.checkpoint;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * Read-only access to a checkpoint file by regions, every region checked against the file's
 * length before anything is mapped or allocated (a truncated file fails with the region it
 * misses, never with an IndexOutOfBounds or an allocation of a size read from the file). Files
 * up to 2 GiB are mapped once and sliced; larger files are mapped region by region. Mappings stay
 * valid after {@link #close()} (they are released when no tensor refers to them).
 */
final class MappedFile implements AutoCloseable {
    private final Path path;
    private final FileChannel channel;
    private final long size;
    private final ByteBuffer whole;

    /** The bytes of a file already in memory ({@code path} names it in messages). */
    MappedFile(Path path, ByteBuffer contents) {
        this.path = path;
        this.channel = null;
        this.size = contents.remaining();
        this.whole = contents.slice();
    }

    MappedFile(Path path) {
        this(path, Integer.MAX_VALUE);
    }

    /** Maps the whole file at once if it has at most {@code wholeLimit} bytes, else region by region. */
    MappedFile(Path path, long wholeLimit) {
        this.path = path;
        try {
            this.channel = FileChannel.open(path, StandardOpenOption.READ);
        } catch (IOException e) {
            throw new CheckpointException(path, "cannot open: " + e, e);
        }
        try {
            this.size = channel.size();
            this.whole = size <= Math.min(wholeLimit, Integer.MAX_VALUE) ? channel.map(FileChannel.MapMode.READ_ONLY, 0, size) : null;
        } catch (IOException | RuntimeException e) {
            closeQuietly();
            throw new CheckpointException(path, "cannot map: " + e, e);
        }
    }

    Path path() {
        return path;
    }

    long size() {
        return size;
    }

    /**
     * Bytes [pos, pos + len) as a little-endian buffer at position 0; {@code what} names the region
     * in the error when the file is too short.
     */
    ByteBuffer region(long pos, long len, String what) {
        if (pos < 0 || len < 0 || pos > size || len > size - pos) {
            throw new CheckpointException(path, "truncated or corrupt: " + what + " needs bytes [" + pos + ", "
                    + (pos + len) + ") but the file has " + size + " bytes");
        }
        if (len > Integer.MAX_VALUE) {
            throw new CheckpointException(path, what + " is " + len + " bytes; regions over 2 GiB are not supported");
        }
        if (whole != null) {
            return whole.duplicate().position((int) pos).limit((int) (pos + len)).slice().order(ByteOrder.LITTLE_ENDIAN);
        }
        try {
            return channel.map(FileChannel.MapMode.READ_ONLY, pos, len).order(ByteOrder.LITTLE_ENDIAN);
        } catch (IOException e) {
            throw new CheckpointException(path, "cannot map " + what + ": " + e, e);
        }
    }

    /** Bytes from {@code pos} to the end of the file, or the first 2 GiB of them. */
    ByteBuffer tail(long pos, String what) {
        return region(pos, Math.min(size - Math.min(pos, size), Integer.MAX_VALUE), what);
    }

    @Override
    public void close() {
        if (channel == null) {
            return;
        }
        try {
            channel.close();
        } catch (IOException e) {
            throw new CheckpointException(path, "cannot close: " + e, e);
        }
    }

    private void closeQuietly() {
        try {
            channel.close();
        } catch (IOException ignored) {
            // the original failure is reported
        }
    }
}
