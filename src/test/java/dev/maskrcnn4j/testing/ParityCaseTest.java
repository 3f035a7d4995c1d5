package dev.maskrcnn4j.testing;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.opentest4j.TestAbortedException;

/** A missing parity case skips (with the generator's reason) only when the generator said why. */
class ParityCaseTest {
    private static <T extends Throwable> T loadIn(Path root, Class<T> expected) {
        String old = System.getProperty(ParityCase.DIR_PROPERTY);
        System.setProperty(ParityCase.DIR_PROPERTY, root.toString());
        try {
            return assertThrows(expected, () -> ParityCase.load("no_such_case"));
        } finally {
            if (old == null) {
                System.clearProperty(ParityCase.DIR_PROPERTY);
            } else {
                System.setProperty(ParityCase.DIR_PROPERTY, old);
            }
        }
    }

    @Test
    void missingCaseFailsNamingTheDirectory(@TempDir Path root) {
        AssertionError e = loadIn(root, AssertionError.class);
        assertTrue(e.getMessage().contains(root.resolve("no_such_case").toString()), e.getMessage());
        assertTrue(e.getMessage().contains("generate.sh"), e.getMessage());
    }

    @Test
    void missingCaseSkipsWithTheGeneratorsReason(@TempDir Path root) throws Exception {
        Files.writeString(root.resolve("SKIPPED"), "torchvision not installed: apt-get install python3-torchvision\n");
        TestAbortedException e = loadIn(root, TestAbortedException.class);
        assertTrue(e.getMessage().contains("torchvision not installed"), e.getMessage());
    }
}
