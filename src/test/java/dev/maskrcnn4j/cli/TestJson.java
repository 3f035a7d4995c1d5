package dev.maskrcnn4j.cli;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;

/**
 * Parses JSON with the project's strict RFC 8259 parser (dev.maskrcnn4j.checkpoint.Json, written
 * for safetensors headers and tested there), which is independent of the writer under test.
 * Objects are LinkedHashMaps, arrays ArrayLists, integers Long, other numbers Double.
 */
final class TestJson {
    private TestJson() {
    }

    static Object parse(String text) {
        try {
            Method parse = Class.forName("dev.maskrcnn4j.checkpoint.Json").getDeclaredMethod("parse", String.class);
            parse.setAccessible(true); // package-private in checkpoint
            return parse.invoke(null, text);
        } catch (InvocationTargetException e) {
            throw new AssertionError("not valid JSON: " + e.getCause().getMessage(), e.getCause());
        } catch (ReflectiveOperationException e) {
            throw new AssertionError(e);
        }
    }
}
