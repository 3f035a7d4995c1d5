package dev.maskrcnn4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AtomicOutputsTest {
    @TempDir
    Path dir;

    /** Every file under {@code root} (hidden ones included) with its contents, one char per byte. */
    static Map<String, String> tree(Path root) throws IOException {
        Map<String, String> files = new TreeMap<>();
        try (Stream<Path> walk = Files.walk(root)) {
            for (Path p : (Iterable<Path>) walk::iterator) {
                String rel = root.relativize(p).toString();
                if (Files.isDirectory(p)) {
                    files.put(rel + "/", "");
                } else {
                    files.put(rel, Files.readString(p, StandardCharsets.ISO_8859_1)); // any bytes
                }
            }
        }
        return files;
    }

    @Test
    void nothingAppearsUntilCommitThenEverythingDoes() throws IOException {
        Path results = dir.resolve("r.json");
        Path overlays = dir.resolve("ov");
        try (AtomicOutputs o = AtomicOutputs.begin(results, overlays)) {
            Files.writeString(o.resultsFile(), "[]\n");
            Files.writeString(o.overlayFile("a.png"), "A");
            Files.writeString(o.overlayFile("b.png"), "B");
            assertFalse(Files.exists(results));
            assertFalse(Files.exists(overlays));
            assertTrue(o.resultsFile().getFileName().toString().startsWith("."), "staged files are hidden");
            o.commit();
        }
        assertEquals(Map.of("/", "", "r.json", "[]\n", "ov/", "", "ov/a.png", "A", "ov/b.png", "B"), tree(dir));
    }

    @Test
    void closingWithoutCommitDeletesEverythingStaged() throws IOException {
        Files.createDirectory(dir.resolve("existing"));
        Files.writeString(dir.resolve("existing/keep.png"), "K");
        Map<String, String> before = tree(dir);
        for (Path overlays : new Path[] {dir.resolve("new"), dir.resolve("existing")}) {
            try (AtomicOutputs o = AtomicOutputs.begin(dir.resolve("r.json"), overlays)) {
                Files.writeString(o.resultsFile(), "[");
                Files.writeString(o.overlayFile("keep.png"), "new");
                Files.writeString(o.overlayFile("x.png"), "X");
            }
            assertEquals(before, tree(dir));
        }
    }

    @Test
    void anExistingDirectoryKeepsItsOtherFilesAndGetsOursReplaced() throws IOException {
        Path overlays = Files.createDirectory(dir.resolve("ov"));
        Files.writeString(overlays.resolve("a.png"), "old A");
        Files.writeString(overlays.resolve("other.txt"), "O");
        Files.writeString(dir.resolve("r.json"), "old results");
        try (AtomicOutputs o = AtomicOutputs.begin(dir.resolve("r.json"), overlays)) {
            Files.writeString(o.resultsFile(), "new results");
            Files.writeString(o.overlayFile("a.png"), "A");
            Files.writeString(o.overlayFile("b.png"), "B");
            o.commit();
        }
        assertEquals(Map.of("/", "", "r.json", "new results", "ov/", "", "ov/a.png", "A", "ov/b.png", "B",
                "ov/other.txt", "O"), tree(dir));
    }

    @Test
    void aFailureWhileMovingTheResultsPutsTheOverlaysBack() throws IOException {
        Path overlays = Files.createDirectory(dir.resolve("ov"));
        Files.writeString(overlays.resolve("a.png"), "old A");
        Files.writeString(dir.resolve("r.json"), "old results");
        Map<String, String> before = tree(dir);
        try (AtomicOutputs o = AtomicOutputs.begin(dir.resolve("r.json"), overlays)) {
            Files.writeString(o.overlayFile("a.png"), "A");
            Files.writeString(o.overlayFile("b.png"), "B");
            Files.delete(o.resultsFile()); // the results move, done after the overlays, now fails
            assertThrows(IOException.class, o::commit);
        }
        assertEquals(before, tree(dir));
    }

    @Test
    void aFailurePartWayThroughTheOverlaysPutsBackTheOnesAlreadyMoved() throws IOException {
        Path overlays = Files.createDirectory(dir.resolve("ov"));
        Files.writeString(overlays.resolve("a.png"), "old A");
        try (AtomicOutputs o = AtomicOutputs.begin(null, overlays)) {
            Files.writeString(o.overlayFile("a.png"), "A");
            Files.writeString(o.overlayFile("b.png"), "B");
            Files.writeString(o.overlayFile("c.png"), "C");
            Files.createDirectories(overlays.resolve("b.png/inside")); // appears after the checks
            Map<String, String> before = tree(dir);
            before.keySet().removeIf(k -> k.startsWith("ov/.")); // staging
            assertThrows(FileAlreadyExistsException.class, o::commit);
            o.close();
            assertEquals(before, tree(dir));
        }
    }

    @Test
    void aNewOverlayDirectoryThatAppearedMeanwhileIsNotClobbered() throws IOException {
        Path overlays = dir.resolve("ov");
        try (AtomicOutputs o = AtomicOutputs.begin(dir.resolve("r.json"), overlays)) {
            Files.writeString(o.resultsFile(), "[]\n");
            Files.writeString(o.overlayFile("a.png"), "A");
            Files.createDirectory(overlays);
            Files.writeString(overlays.resolve("theirs.png"), "T");
            assertThrows(IOException.class, o::commit);
        }
        assertEquals(Map.of("/", "", "ov/", "", "ov/theirs.png", "T"), tree(dir));
    }

    @Test
    void overlayNamesMustBePlainAndUnique() throws IOException {
        try (AtomicOutputs o = AtomicOutputs.begin(null, dir.resolve("ov"))) {
            o.overlayFile("a.png");
            assertThrows(IllegalArgumentException.class, () -> o.overlayFile("a.png"));
            assertThrows(IllegalArgumentException.class, () -> o.overlayFile("../x.png"));
            assertThrows(IllegalArgumentException.class, () -> o.overlayFile(".."));
            o.overlayFile(".hidden.png");
        }
        try (AtomicOutputs o = AtomicOutputs.begin(dir.resolve("r.json"), null)) {
            assertThrows(IllegalStateException.class, () -> o.overlayFile("a.png"));
        }
        assertEquals(Map.of("/", ""), tree(dir));
    }
}
