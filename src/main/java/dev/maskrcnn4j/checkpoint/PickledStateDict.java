package dev.maskrcnn4j.checkpoint;

import dev.maskrcnn4j.checkpoint.RestrictedUnpickler.PyDict;
import dev.maskrcnn4j.checkpoint.RestrictedUnpickler.TensorRef;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/** Turns the unpickled top-level object of a torch file into a {@link StateDict}. */
final class PickledStateDict {
    private PickledStateDict() {
    }

    static StateDict assemble(Path file, Checkpoint.Format format, Object root) {
        if (!(root instanceof PyDict)) {
            throw new CheckpointException(file, "the file holds " + RestrictedUnpickler.describe(root)
                    + ", not a state dict (a dict of tensors)");
        }
        Map<String, HostTensor> tensors = new LinkedHashMap<>();
        for (Map.Entry<Object, Object> e : ((PyDict) root).entrySet()) {
            if (!(e.getKey() instanceof String)) {
                throw new CheckpointException(file, "state dict key " + RestrictedUnpickler.describe(e.getKey())
                        + " is not a string");
            }
            String key = (String) e.getKey();
            Object v = e.getValue();
            if (!(v instanceof TensorRef)) {
                String hint = v instanceof PyDict
                        ? " (a training checkpoint wrapping the state dict? save checkpoint['" + key + "'] on its own)" : "";
                throw new CheckpointException(file, "key '" + key + "' holds " + RestrictedUnpickler.describe(v)
                        + ", not a tensor" + hint);
            }
            TensorRef t = (TensorRef) v;
            tensors.put(key, HostTensor.view(file, key, t.storage, t.offset, t.shape, t.strides));
        }
        return new StateDict(file, format, tensors, versions(file, (PyDict) root), Map.of());
    }

    /** torch's _metadata attribute: OrderedDict(prefix -> {"version": n, ...}). */
    private static Map<String, Long> versions(Path file, PyDict root) {
        Map<String, Long> out = new LinkedHashMap<>();
        Object meta = root.attributes.get("_metadata");
        if (meta instanceof Map) {
            for (Map.Entry<?, ?> e : ((Map<?, ?>) meta).entrySet()) {
                if (e.getKey() instanceof String && e.getValue() instanceof Map) {
                    Object v = ((Map<?, ?>) e.getValue()).get("version");
                    if (v instanceof Long) {
                        out.put((String) e.getKey(), (Long) v);
                    }
                }
            }
        }
        return out;
    }
}
