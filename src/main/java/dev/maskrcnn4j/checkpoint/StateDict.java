package dev.maskrcnn4j.checkpoint;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The tensors of a checkpoint by key, in the file's order, as {@link Checkpoint#load} read them
 * (complete: a load either returns every tensor or throws). Lookups and validation throw
 * {@link CheckpointException} naming the key and the file. Immutable.
 */
public final class StateDict {
    /** Listed problems per exception message; {@link CheckpointException#problems()} has all. */
    private static final int MAX_LISTED = 40;

    private final Path file;
    private final Checkpoint.Format format;
    private final Map<String, HostTensor> tensors;
    private final Map<String, Long> moduleVersions;
    private final Map<String, String> metadata;

    StateDict(Path file, Checkpoint.Format format, Map<String, HostTensor> tensors, Map<String, Long> moduleVersions,
              Map<String, String> metadata) {
        this.file = file;
        this.format = format;
        this.tensors = Collections.unmodifiableMap(new LinkedHashMap<>(tensors));
        this.moduleVersions = Collections.unmodifiableMap(new LinkedHashMap<>(moduleVersions));
        this.metadata = Collections.unmodifiableMap(new LinkedHashMap<>(metadata));
    }

    /** The file the tensors were read from. */
    public Path file() {
        return file;
    }

    public Checkpoint.Format format() {
        return format;
    }

    public int size() {
        return tensors.size();
    }

    /** Keys in the file's order. */
    public Set<String> keys() {
        return tensors.keySet();
    }

    public boolean contains(String key) {
        return tensors.containsKey(key);
    }

    /** Key -> tensor, in the file's order, unmodifiable. */
    public Map<String, HostTensor> tensors() {
        return tensors;
    }

    /**
     * torch's per-module {@code _version}s from the state dict's {@code _metadata} (prefix ->
     * version; "" is the root module). Empty when the file has none (safetensors, old files).
     */
    public Map<String, Long> moduleVersions() {
        return moduleVersions;
    }

    /** The {@code __metadata__} of a safetensors file; empty for torch files. */
    public Map<String, String> metadata() {
        return metadata;
    }

    /** The tensor under {@code key}; throws naming the key and the file when there is none. */
    public HostTensor get(String key) {
        HostTensor t = tensors.get(key);
        if (t == null) {
            throw new CheckpointException(file, "missing key '" + key + "'" + nearby(key));
        }
        return t;
    }

    /** The floating-point tensor under {@code key}, which must have exactly {@code shape}. */
    public HostTensor require(String key, long... shape) {
        return require(key, TensorSpec.floating(shape));
    }

    /** The tensor under {@code key}, which must fit {@code spec}. */
    public HostTensor require(String key, TensorSpec spec) {
        HostTensor t = get(key);
        String problem = spec.mismatch(t);
        if (problem != null) {
            throw new CheckpointException(file, "key '" + key + "': " + problem);
        }
        return t;
    }

    /**
     * Checks the checkpoint against what a model expects, floating-point tensors of the given
     * shapes, and reports every problem at once; see {@link #validateSpecs}.
     */
    public void validate(Map<String, long[]> expectedShapes) {
        Map<String, TensorSpec> specs = new LinkedHashMap<>();
        expectedShapes.forEach((k, shape) -> specs.put(k, TensorSpec.floating(shape)));
        validateSpecs(specs);
    }

    /**
     * Checks the checkpoint against what a model expects: every expected key present with its
     * shape and dtype, and no other key. Throws one {@link CheckpointException} naming the file
     * and listing every missing key, unexpected key, wrong shape and wrong dtype.
     */
    public void validateSpecs(Map<String, TensorSpec> expected) {
        List<String> missing = new ArrayList<>();
        List<String> wrong = new ArrayList<>();
        List<String> unexpected = new ArrayList<>();
        for (Map.Entry<String, TensorSpec> e : expected.entrySet()) {
            HostTensor t = tensors.get(e.getKey());
            if (t == null) {
                missing.add("missing key '" + e.getKey() + "' (" + e.getValue() + ")");
            } else {
                String problem = e.getValue().mismatch(t);
                if (problem != null) {
                    wrong.add("key '" + e.getKey() + "': " + problem);
                }
            }
        }
        for (HostTensor t : tensors.values()) {
            if (!expected.containsKey(t.name())) {
                unexpected.add("unexpected key '" + t.name() + "' (" + t.dtype() + Arrays.toString(t.shape()) + ")");
            }
        }
        if (missing.isEmpty() && wrong.isEmpty() && unexpected.isEmpty()) {
            return;
        }
        List<String> all = new ArrayList<>(missing);
        all.addAll(unexpected);
        all.addAll(wrong);
        StringBuilder sb = new StringBuilder("checkpoint does not match the model: ");
        sb.append(count(missing.size(), "missing key")).append(", ")
                .append(count(unexpected.size(), "unexpected key")).append(", ")
                .append(count(wrong.size(), "wrong shape or dtype", "wrong shapes or dtypes"));
        if (!missing.isEmpty() && missing.size() == expected.size()) {
            sb.append(" (no expected key is present: is this a checkpoint of this model?)");
        } else if (!missing.isEmpty() && !unexpected.isEmpty()
                && tensors.keySet().stream().anyMatch(KeyNames::isLegacy)) {
            sb.append(" (the file uses the pre-0.13 torchvision key spelling: validate normalized())");
        }
        for (int i = 0; i < all.size() && i < MAX_LISTED; i++) {
            sb.append("\n  ").append(all.get(i));
        }
        if (all.size() > MAX_LISTED) {
            sb.append("\n  ... and ").append(all.size() - MAX_LISTED).append(" more (CheckpointException.problems() lists all)");
        }
        throw new CheckpointException(file, sb.toString(), all);
    }

    /**
     * The same tensors (no copy) under torchvision 0.14's key spelling ({@link KeyNames#canonical}),
     * without the {@code num_batches_tracked} buffers inference does not use. Throws when two
     * keys map to one (a file holding both spellings of a tensor).
     */
    public StateDict normalized() {
        Map<String, HostTensor> out = new LinkedHashMap<>();
        Map<String, String> from = new LinkedHashMap<>();
        List<String> collisions = new ArrayList<>();
        for (HostTensor t : tensors.values()) {
            if (KeyNames.isUnusedAtInference(t.name())) {
                continue;
            }
            String c = KeyNames.canonical(t.name());
            String previous = from.put(c, t.name());
            if (previous != null) {
                collisions.add("keys '" + previous + "' and '" + t.name() + "' are both '" + c + "'");
            }
            out.put(c, c.equals(t.name()) ? t : t.renamed(c));
        }
        if (!collisions.isEmpty()) {
            throw new CheckpointException(file, "the file holds both key spellings of the same tensors: "
                    + String.join("; ", collisions), collisions);
        }
        return new StateDict(file, format, out, moduleVersions, metadata);
    }

    /** Bytes of all storages, each counted once. */
    public long storageBytes() {
        Set<Storage> seen = Collections.newSetFromMap(new java.util.IdentityHashMap<>());
        long n = 0;
        for (HostTensor t : tensors.values()) {
            Storage s = t.storage();
            if (seen.add(s)) {
                n += s.nbytes();
            }
        }
        return n;
    }

    private String nearby(String key) {
        String c = KeyNames.canonical(key);
        String l = KeyNames.legacy(key);
        if (!c.equals(key) && tensors.containsKey(c)) {
            return " (the file has it as '" + c + "': use normalized())";
        }
        if (!l.equals(key) && tensors.containsKey(l)) {
            return " (the file has it in the pre-0.13 spelling '" + l + "': use normalized())";
        }
        return "";
    }

    private static String count(int n, String singular) {
        return count(n, singular, singular + "s");
    }

    private static String count(int n, String singular, String plural) {
        return n + " " + (n == 1 ? singular : plural);
    }

    @Override
    public String toString() {
        return "StateDict(" + file + ", " + format + ", " + tensors.size() + " tensors)";
    }
}
