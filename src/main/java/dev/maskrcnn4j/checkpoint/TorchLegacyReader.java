package dev.maskrcnn4j.checkpoint;

import dev.maskrcnn4j.checkpoint.RestrictedUnpickler.Global;
import dev.maskrcnn4j.checkpoint.RestrictedUnpickler.Kind;
import dev.maskrcnn4j.checkpoint.RestrictedUnpickler.Tuple;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * torch.save's legacy format (torch < 1.6, or {@code _use_new_zipfile_serialization=False}):
 * pickles of the magic number, the protocol version (1001) and system info, the state-dict pickle
 * (persistent ids ('storage', storage_type, root_key, location, numel, view_metadata)), the
 * pickled list of storage keys, then for each key: its element count (8 bytes, little endian)
 * and its bytes.
 */
final class TorchLegacyReader {
    static final BigInteger MAGIC_NUMBER = new BigInteger("1950a86a20f9469cfc6c", 16);
    static final long PROTOCOL_VERSION = 1001;

    private TorchLegacyReader() {
    }

    /** A storage view of old torch (view_metadata = (view_key, offset, size)): bound after its root. */
    private static final class View {
        final Storage view;
        final Storage root;
        final long offset;

        View(Storage view, Storage root, long offset) {
            this.view = view;
            this.root = root;
            this.offset = offset;
        }
    }

    static StateDict read(MappedFile file) {
        Path path = file.path();
        ByteBuffer in = file.tail(0, "the pickles");
        Object magic = new RestrictedUnpickler(path, "the magic-number pickle", in, 0, null).load();
        if (!(magic instanceof BigInteger && magic.equals(MAGIC_NUMBER))) {
            throw new CheckpointException(path, "a pickle, but not a torch checkpoint: it starts with "
                    + RestrictedUnpickler.describe(magic) + ", not torch's magic number 0x1950a86a20f9469cfc6c");
        }
        Object protocol = new RestrictedUnpickler(path, "the protocol-version pickle", in, 0, null).load();
        if (!Long.valueOf(PROTOCOL_VERSION).equals(protocol)) {
            throw new CheckpointException(path, "unsupported legacy protocol version " + RestrictedUnpickler.describe(protocol)
                    + " (expected 1001)");
        }
        Object sysInfo = new RestrictedUnpickler(path, "the sys_info pickle", in, 0, null).load();
        if (sysInfo instanceof Map && Boolean.FALSE.equals(((Map<?, ?>) sysInfo).get("little_endian"))) {
            throw new CheckpointException(path, "saved on a big-endian machine; not supported");
        }

        Map<String, Storage> roots = new LinkedHashMap<>();
        Map<String, Storage> views = new LinkedHashMap<>();
        List<View> viewList = new ArrayList<>();
        Object root = new RestrictedUnpickler(path, "the state-dict pickle", in, 0,
                pid -> storage(path, roots, views, viewList, pid)).load();
        StateDict dict = PickledStateDict.assemble(path, Checkpoint.Format.TORCH_LEGACY, root);

        Object keys = new RestrictedUnpickler(path, "the storage-keys pickle", in, 0, null).load();
        if (!(keys instanceof List)) {
            throw new CheckpointException(path, "the storage-keys pickle holds " + RestrictedUnpickler.describe(keys)
                    + ", not a list");
        }
        long pos = in.position();
        Set<String> done = new HashSet<>();
        for (Object k : (List<?>) keys) {
            if (!(k instanceof String)) {
                throw new CheckpointException(path, "storage key " + RestrictedUnpickler.describe(k) + " is not a string");
            }
            String key = (String) k;
            Storage s = roots.get(key);
            if (s == null || !done.add(key)) {
                throw new CheckpointException(path, "corrupt: storage '" + key + "' is listed "
                        + (s == null ? "but no tensor uses it" : "twice"));
            }
            long count = file.region(pos, 8, "the element count of storage '" + key + "'").getLong(0);
            if (count != s.numel) {
                throw new CheckpointException(path, "corrupt: storage '" + key + "' has " + count + " elements at byte "
                        + pos + ", but the pickle declares " + s.numel);
            }
            pos += 8;
            s.bind(file.region(pos, s.nbytes(), "storage '" + key + "' (" + s.dtype + "[" + s.numel + "])"));
            pos += s.nbytes();
        }
        for (Storage s : roots.values()) {
            if (!s.isBound()) {
                throw new CheckpointException(path, "corrupt: storage '" + s.key + "' is used by tensors but has no data");
            }
        }
        for (View v : viewList) {
            ByteBuffer b = v.root.data().duplicate();
            int es = v.root.dtype.bytes();
            b.position((int) (v.offset * es)).limit((int) ((v.offset + v.view.numel) * es));
            v.view.bind(b);
        }
        return dict;
    }

    private static Storage storage(Path path, Map<String, Storage> roots, Map<String, Storage> views, List<View> viewList,
                                   Object pid) {
        if (pid instanceof Tuple && ((Tuple) pid).size() > 0 && "module".equals(((Tuple) pid).get(0))) {
            throw new CheckpointException(path, "the file pickles a whole module (torch.save(model)): save "
                    + "model.state_dict() instead");
        }
        if (!(pid instanceof Tuple) || ((Tuple) pid).size() != 6 || !"storage".equals(((Tuple) pid).get(0))) {
            throw new CheckpointException(path, "unsupported persistent id " + RestrictedUnpickler.describe(pid)
                    + " (expected ('storage', type, key, location, numel, view_metadata))");
        }
        Tuple t = (Tuple) pid;
        if (!(t.get(1) instanceof Global) || ((Global) t.get(1)).kind != Kind.STORAGE_TYPE) {
            throw new CheckpointException(path, "persistent id with storage type " + RestrictedUnpickler.describe(t.get(1)));
        }
        if (!(t.get(2) instanceof String) || !(t.get(4) instanceof Long) || (Long) t.get(4) < 0) {
            throw new CheckpointException(path, "malformed storage persistent id " + RestrictedUnpickler.describe(t));
        }
        ElementType dtype = ((Global) t.get(1)).dtype;
        String key = (String) t.get(2);
        long numel = (Long) t.get(4);
        try {
            Math.multiplyExact(numel, dtype.bytes());
        } catch (ArithmeticException e) {
            throw new CheckpointException(path, "storage '" + key + "' declares " + numel + " elements");
        }
        Storage root = roots.get(key);
        if (root == null) {
            root = new Storage(key, dtype, numel);
            roots.put(key, root);
        } else if (root.dtype != dtype || root.numel != numel) {
            throw new CheckpointException(path, "storage '" + key + "' is declared as " + root.dtype + "[" + root.numel
                    + "] and as " + dtype + "[" + numel + "]");
        }
        Object viewMeta = t.get(5);
        if (viewMeta == null) {
            return root;
        }
        if (!(viewMeta instanceof Tuple) || ((Tuple) viewMeta).size() != 3 || !(((Tuple) viewMeta).get(0) instanceof String)
                || !(((Tuple) viewMeta).get(1) instanceof Long) || !(((Tuple) viewMeta).get(2) instanceof Long)) {
            throw new CheckpointException(path, "malformed storage view metadata " + RestrictedUnpickler.describe(viewMeta));
        }
        Tuple vm = (Tuple) viewMeta;
        String viewKey = (String) vm.get(0);
        long offset = (Long) vm.get(1);
        long size = (Long) vm.get(2);
        if (offset < 0 || size < 0 || offset > numel || size > numel - offset) {
            throw new CheckpointException(path, "storage view '" + viewKey + "' [" + offset + ", " + (offset + size)
                    + ") lies outside storage '" + key + "' of " + numel + " elements");
        }
        Storage view = views.get(viewKey);
        if (view == null) {
            view = new Storage(viewKey, dtype, size);
            views.put(viewKey, view);
            viewList.add(new View(view, root, offset));
        }
        return view;
    }
}
