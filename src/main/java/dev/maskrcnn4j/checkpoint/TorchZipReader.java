package dev.maskrcnn4j.checkpoint;

import dev.maskrcnn4j.checkpoint.RestrictedUnpickler.Global;
import dev.maskrcnn4j.checkpoint.RestrictedUnpickler.Kind;
import dev.maskrcnn4j.checkpoint.RestrictedUnpickler.Tuple;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * torch.save's zip format (torch >= 1.6): {@code <prefix>/data.pkl} is the state-dict pickle, whose
 * persistent ids ('storage', torch.FloatStorage, key, location, numel) name the records
 * {@code <prefix>/data/<key>}. The prefix is the saved file's name without extension (or
 * "archive"), so it is found, not assumed.
 */
final class TorchZipReader {
    private TorchZipReader() {
    }

    static StateDict read(MappedFile file) {
        ZipDirectory zip = ZipDirectory.read(file);
        String prefix = findPrefix(file, zip);
        ZipDirectory.Entry byteorder = zip.entries().get(prefix + "byteorder");
        if (byteorder != null) {
            String order = StandardCharsets.US_ASCII.decode(zip.data(byteorder)).toString().trim();
            if (!order.equals("little")) {
                throw new CheckpointException(file.path(), "storages are " + order + "-endian; only little-endian "
                        + "checkpoints are supported");
            }
        }
        ByteBuffer pickle = zip.data(zip.entries().get(prefix + "data.pkl"));
        Map<String, Storage> storages = new HashMap<>();
        RestrictedUnpickler unpickler = new RestrictedUnpickler(file.path(), prefix + "data.pkl", pickle, 0,
                pid -> storage(file, zip, prefix, storages, pid));
        Object root = unpickler.load();
        return PickledStateDict.assemble(file.path(), Checkpoint.Format.TORCH_ZIP, root);
    }

    private static String findPrefix(MappedFile file, ZipDirectory zip) {
        List<String> candidates = new ArrayList<>();
        boolean torchScript = false;
        for (String name : zip.entries().keySet()) {
            int slash = name.indexOf('/');
            String rest = slash < 0 ? name : name.substring(slash + 1);
            if (rest.equals("data.pkl") && (slash < 0 || name.indexOf('/', slash + 1) < 0)) {
                candidates.add(name.substring(0, slash + 1));
            }
            if (rest.equals("constants.pkl") || rest.startsWith("code/")) {
                torchScript = true;
            }
        }
        if (candidates.size() == 1) {
            return candidates.get(0);
        }
        if (candidates.isEmpty()) {
            throw new CheckpointException(file.path(), torchScript
                    ? "a TorchScript archive (torch.jit.save) without data.pkl: save model.state_dict() with torch.save instead"
                    : "a zip archive without <name>/data.pkl: not a torch.save checkpoint");
        }
        throw new CheckpointException(file.path(), "a zip archive with several data.pkl records " + candidates
                + ": not a torch.save checkpoint");
    }

    /** persistent_load of torch's zip format: ('storage', storage_type, key, location, numel). */
    private static Storage storage(MappedFile file, ZipDirectory zip, String prefix, Map<String, Storage> storages, Object pid) {
        if (!(pid instanceof Tuple) || ((Tuple) pid).size() != 5 || !"storage".equals(((Tuple) pid).get(0))) {
            throw new CheckpointException(file.path(), "unsupported persistent id " + RestrictedUnpickler.describe(pid)
                    + " in " + prefix + "data.pkl (expected ('storage', type, key, location, numel))");
        }
        Tuple t = (Tuple) pid;
        if (!(t.get(1) instanceof Global) || ((Global) t.get(1)).kind != Kind.STORAGE_TYPE) {
            throw new CheckpointException(file.path(), "persistent id with storage type " + RestrictedUnpickler.describe(t.get(1)));
        }
        if (!(t.get(2) instanceof String) || !(t.get(4) instanceof Long) || (Long) t.get(4) < 0) {
            throw new CheckpointException(file.path(), "malformed storage persistent id " + RestrictedUnpickler.describe(t));
        }
        ElementType dtype = ((Global) t.get(1)).dtype;
        String key = (String) t.get(2);
        long numel = (Long) t.get(4);
        Storage s = storages.get(key);
        if (s != null) {
            if (s.dtype != dtype || s.numel != numel) {
                throw new CheckpointException(file.path(), "storage '" + key + "' is declared as " + s.dtype + "[" + s.numel
                        + "] and as " + dtype + "[" + numel + "]");
            }
            return s;
        }
        String record = prefix + "data/" + key;
        ZipDirectory.Entry entry = zip.entries().get(record);
        if (entry == null) {
            throw new CheckpointException(file.path(), "truncated or corrupt: storage record '" + record + "' is missing");
        }
        long nbytes;
        try {
            nbytes = Math.multiplyExact(numel, dtype.bytes());
        } catch (ArithmeticException e) {
            throw new CheckpointException(file.path(), "storage '" + key + "' declares " + numel + " elements");
        }
        if (entry.size != nbytes) {
            throw new CheckpointException(file.path(), "truncated or corrupt: storage record '" + record + "' has "
                    + entry.size + " bytes, but data.pkl declares " + dtype + "[" + numel + "] = " + nbytes + " bytes");
        }
        s = new Storage(key, dtype, numel);
        s.bind(zip.data(entry));
        storages.put(key, s);
        return s;
    }
}
