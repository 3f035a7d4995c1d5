package dev.maskrcnn4j.cli;

import java.io.IOException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.stream.Stream;

/**
 * The output files of one run, all or nothing: everything is written to hidden staging files beside
 * the targets, and {@link #commit()} moves them into place with atomic renames; closing without a
 * commit (any failure, or the JVM shutting down on Ctrl-C) deletes everything staged.
 *
 * <p>The results file is staged as {@code .<name>.<random>.tmp} in its directory and renamed over
 * the target last. Overlays go to a fresh staging directory: beside DIR when DIR does not exist (the
 * commit renames the staging directory to DIR), inside DIR when it does (the commit renames each
 * file in, setting aside any file it replaces; a failure part-way puts every replaced file back).
 */
final class AtomicOutputs implements AutoCloseable {
    private static final String NEW = "new";
    private static final String REPLACED = "replaced";

    private final Path resultsTarget;
    private final Path overlayTarget;
    private final boolean overlayDirExisted;
    private Path resultsStaged;
    private Path overlayStaging; // the staging directory
    private final List<String> overlayNames = new ArrayList<>();
    private boolean committed;
    private boolean closed;
    private final Thread discardOnExit = new Thread(this::discard, "maskrcnn4j-discard-outputs");

    private AtomicOutputs(Path resultsTarget, Path overlayTarget) {
        this.resultsTarget = resultsTarget;
        this.overlayTarget = overlayTarget;
        this.overlayDirExisted = overlayTarget != null && Files.isDirectory(overlayTarget);
    }

    /**
     * Creates the staging files for a results file and/or an overlay directory (either may be null).
     * Their parent directories must exist.
     */
    static AtomicOutputs begin(Path results, Path overlayDir) throws IOException {
        AtomicOutputs o = new AtomicOutputs(results == null ? null : results.toAbsolutePath(),
                overlayDir == null ? null : overlayDir.toAbsolutePath());
        Runtime.getRuntime().addShutdownHook(o.discardOnExit);
        try {
            if (o.resultsTarget != null) {
                o.resultsStaged = createUnique(o.resultsTarget.getParent(), o.resultsTarget.getFileName(), false);
            }
            if (o.overlayTarget != null) {
                if (o.overlayDirExisted) {
                    o.overlayStaging = createUnique(o.overlayTarget, Path.of("maskrcnn4j"), true);
                    Files.createDirectory(o.overlayStaging.resolve(NEW));
                } else {
                    o.overlayStaging = createUnique(o.overlayTarget.getParent(), o.overlayTarget.getFileName(), true);
                }
            }
        } catch (IOException | RuntimeException e) {
            o.close();
            throw e;
        }
        return o;
    }

    /** The staged results file to write, or null when no results file was asked for. */
    Path resultsFile() {
        return resultsStaged;
    }

    /** Where to write the overlay that will become {@code DIR/fileName}. */
    synchronized Path overlayFile(String fileName) {
        if (overlayStaging == null) {
            throw new IllegalStateException("no overlay directory was asked for");
        }
        if (fileName.isEmpty() || fileName.contains("/") || fileName.equals(".") || fileName.equals("..")
                || overlayNames.contains(fileName)) {
            throw new IllegalArgumentException("bad or repeated overlay file name '" + fileName + "'");
        }
        overlayNames.add(fileName);
        return newFilesDir().resolve(fileName);
    }

    /** Moves every staged output into place, or, on failure, leaves the targets as they were. */
    synchronized void commit() throws IOException {
        if (closed || committed) {
            throw new IllegalStateException("outputs already " + (committed ? "committed" : "discarded"));
        }
        Deque<Runnable> undo = new ArrayDeque<>();
        try {
            if (overlayStaging != null) {
                commitOverlays(undo);
            }
            if (resultsStaged != null) {
                Files.move(resultsStaged, resultsTarget, StandardCopyOption.ATOMIC_MOVE); // replaces a file
                resultsStaged = null;
            }
            committed = true;
        } catch (IOException | RuntimeException e) {
            while (!undo.isEmpty()) {
                undo.pop().run();
            }
            throw e;
        }
        if (overlayDirExisted) {
            Path leftovers = overlayStaging; // now holds only the files that were replaced
            quietly(() -> deleteTree(leftovers));
        }
        overlayStaging = null;
    }

    private void commitOverlays(Deque<Runnable> undo) throws IOException {
        if (!overlayDirExisted) {
            Files.move(overlayStaging, overlayTarget, StandardCopyOption.ATOMIC_MOVE);
            undo.push(() -> quietly(() -> Files.move(overlayTarget, overlayStaging, StandardCopyOption.ATOMIC_MOVE)));
            return;
        }
        Path replaced = Files.createDirectory(overlayStaging.resolve(REPLACED));
        for (String name : overlayNames) {
            Path target = overlayTarget.resolve(name);
            Path fresh = newFilesDir().resolve(name);
            if (Files.exists(target, LinkOption.NOFOLLOW_LINKS)) {
                if (Files.isDirectory(target, LinkOption.NOFOLLOW_LINKS)) {
                    throw new FileAlreadyExistsException(target.toString(), null, "a directory is in the way");
                }
                Path old = replaced.resolve(name);
                Files.move(target, old, StandardCopyOption.ATOMIC_MOVE);
                undo.push(() -> quietly(() -> Files.move(old, target, StandardCopyOption.ATOMIC_MOVE)));
            }
            Files.move(fresh, target, StandardCopyOption.ATOMIC_MOVE);
            undo.push(() -> quietly(() -> Files.move(target, fresh, StandardCopyOption.ATOMIC_MOVE)));
        }
    }

    /** Deletes whatever is staged unless committed. Never throws. */
    @Override
    public void close() {
        discard();
        try {
            Runtime.getRuntime().removeShutdownHook(discardOnExit);
        } catch (IllegalStateException shuttingDown) {
            // the hook is running or has run: it discards
        }
    }

    private synchronized void discard() {
        if (closed) {
            return;
        }
        closed = true;
        if (resultsStaged != null) {
            quietly(() -> Files.deleteIfExists(resultsStaged));
        }
        if (overlayStaging != null) {
            quietly(() -> deleteTree(overlayStaging));
        }
    }

    private Path newFilesDir() {
        return overlayDirExisted ? overlayStaging.resolve(NEW) : overlayStaging;
    }

    /** A new hidden file or directory {@code dir/.name.<random>.tmp}, created with the usual permissions. */
    private static Path createUnique(Path dir, Path name, boolean directory) throws IOException {
        for (int attempt = 0; ; attempt++) {
            Path p = dir.resolve("." + name + "." + Long.toUnsignedString(ThreadLocalRandom.current().nextLong(), 36) + ".tmp");
            try {
                return directory ? Files.createDirectory(p) : Files.createFile(p);
            } catch (FileAlreadyExistsException e) {
                if (attempt > 100) {
                    throw e;
                }
            }
        }
    }

    private static void deleteTree(Path root) throws IOException {
        if (!Files.exists(root, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(root)) {
            for (Path p : (Iterable<Path>) walk.sorted(Comparator.reverseOrder())::iterator) {
                try {
                    Files.deleteIfExists(p);
                } catch (DirectoryNotEmptyException e) {
                    // a file appeared meanwhile; leave it
                }
            }
        }
    }

    private interface IoAction {
        void run() throws IOException;
    }

    private static void quietly(IoAction action) {
        try {
            action.run();
        } catch (IOException | RuntimeException e) {
            // best effort: cleanup must not hide the failure being reported
        }
    }
}
