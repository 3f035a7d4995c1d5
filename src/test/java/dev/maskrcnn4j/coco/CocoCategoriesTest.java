package dev.maskrcnn4j.coco;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.maskrcnn4j.InvalidArgumentException;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class CocoCategoriesTest {
    /** Written by tools/coco/dump_categories.py from torchvision 0.14 (line k = label k). */
    static List<String> torchvisionNames() throws IOException {
        List<String> names = new ArrayList<>();
        try (InputStream in = CocoCategoriesTest.class.getResourceAsStream("/coco/torchvision_coco_categories.txt")) {
            if (in == null) {
                throw new IOException("missing resource /coco/torchvision_coco_categories.txt");
            }
            BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
            for (String line; (line = r.readLine()) != null; ) {
                if (!line.startsWith("#")) {
                    names.add(line);
                }
            }
        }
        return names;
    }

    @Test
    void equalsTorchvisionList() throws IOException {
        assertEquals(torchvisionNames(), CocoCategories.names());
        assertEquals(91, CocoCategories.COUNT);
        assertEquals(CocoCategories.COUNT, CocoCategories.names().size());
    }

    @Test
    void lookups() {
        assertEquals("__background__", CocoCategories.name(0));
        assertEquals("person", CocoCategories.name(1));
        assertEquals("N/A", CocoCategories.name(12));
        assertEquals("toothbrush", CocoCategories.name(90));
        assertEquals(1, CocoCategories.labelId("person"));
        assertEquals(13, CocoCategories.labelId("stop sign"));
        assertEquals(90, CocoCategories.labelId("toothbrush"));
        assertThrows(InvalidArgumentException.class, () -> CocoCategories.name(-1));
        assertThrows(InvalidArgumentException.class, () -> CocoCategories.name(91));
        assertThrows(InvalidArgumentException.class, () -> CocoCategories.labelId("N/A"));
        assertThrows(InvalidArgumentException.class, () -> CocoCategories.labelId("__background__"));
        assertThrows(InvalidArgumentException.class, () -> CocoCategories.labelId("Person"));
        assertThrows(InvalidArgumentException.class, () -> CocoCategories.labelId(null));
        assertThrows(UnsupportedOperationException.class, () -> CocoCategories.names().set(1, "x"));
    }

    @Test
    void eightyObjectClasses() {
        int classes = 0;
        for (int i = -1; i <= CocoCategories.COUNT; i++) {
            if (CocoCategories.isObjectClass(i)) {
                classes++;
                assertEquals(i, CocoCategories.labelId(CocoCategories.name(i)));
            }
        }
        assertEquals(80, classes);
        assertFalse(CocoCategories.isObjectClass(0));
        assertFalse(CocoCategories.isObjectClass(83));
        assertTrue(CocoCategories.isObjectClass(84));
    }
}
