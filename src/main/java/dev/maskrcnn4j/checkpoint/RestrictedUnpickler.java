package dev.maskrcnn4j.checkpoint;

import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * A pickle reader that knows only what a PyTorch state dict is made of. It implements the opcodes
 * of protocols 2 to 5 that {@code pickle} and {@code torch.save} write for plain data (ints,
 * floats, strings, bytes, tuples, lists, dicts, memo, frames, persistent ids), and resolves
 * globals against a whitelist: {@code collections.OrderedDict}, the tensor and parameter rebuild
 * functions of {@code torch._utils} and the storage types ({@code torch.FloatStorage}, ...).
 * Any other global ({@code posix.system}, {@code builtins.eval}, a class of the pickling program)
 * is refused when the GLOBAL or STACK_GLOBAL opcode names it, with an error naming it: nothing in
 * a pickle is ever executed, looked up by reflection or instantiated beyond the whitelist, whose
 * "calls" are interpreted here. Unknown opcodes are refused with their name and byte offset.
 *
 * <p>Python values become: None -> null, bool -> Boolean, int -> Long (BigInteger beyond 64
 * bits), float -> Double, str -> String, bytes -> byte[], tuple -> {@link Tuple}, list ->
 * ArrayList, dict and OrderedDict -> {@link PyDict}, {@code _rebuild_tensor*} -> {@link TensorRef},
 * persistent ids -> whatever the {@link PersistentLoader} returns.
 */
final class RestrictedUnpickler {

    /** Maps a persistent id (a tuple such as ('storage', torch.FloatStorage, '0', 'cpu', 6)) to an object. */
    interface PersistentLoader {
        Object load(Object pid);
    }

    /** An immutable Python tuple (equality by content: tuples can be dict keys). */
    static final class Tuple {
        final Object[] items;

        Tuple(Object... items) {
            this.items = items;
        }

        int size() {
            return items.length;
        }

        Object get(int i) {
            return items[i];
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Tuple && Arrays.deepEquals(items, ((Tuple) o).items);
        }

        @Override
        public int hashCode() {
            return Arrays.deepHashCode(items);
        }

        @Override
        public String toString() {
            return "tuple" + Arrays.deepToString(items);
        }
    }

    /** A dict or collections.OrderedDict (insertion ordered), with the attributes BUILD set on it. */
    static final class PyDict extends LinkedHashMap<Object, Object> {
        private static final long serialVersionUID = 1L;
        final boolean ordered;
        final Map<String, Object> attributes = new LinkedHashMap<>();

        PyDict(boolean ordered) {
            this.ordered = ordered;
        }
    }

    /** A tensor as _rebuild_tensor_v2 describes it: a view of a storage. */
    static final class TensorRef {
        final Storage storage;
        final long offset;
        final long[] shape;
        final long[] strides;

        TensorRef(Storage storage, long offset, long[] shape, long[] strides) {
            this.storage = storage;
            this.offset = offset;
            this.shape = shape;
            this.strides = strides;
        }
    }

    enum Kind { ORDERED_DICT, REBUILD_TENSOR_V2, REBUILD_TENSOR, REBUILD_PARAMETER, REBUILD_PARAMETER_WITH_STATE, STORAGE_TYPE }

    /** A whitelisted global. */
    static final class Global {
        final String qualifiedName;
        final Kind kind;
        final ElementType dtype;

        Global(String qualifiedName, Kind kind, ElementType dtype) {
            this.qualifiedName = qualifiedName;
            this.kind = kind;
            this.dtype = dtype;
        }

        @Override
        public String toString() {
            return qualifiedName;
        }
    }

    /** The whitelist: "module.name" -> global. */
    static final Map<String, Global> WHITELIST;

    static {
        Map<String, Global> w = new TreeMap<>();
        put(w, "collections.OrderedDict", Kind.ORDERED_DICT, null);
        put(w, "torch._utils._rebuild_tensor_v2", Kind.REBUILD_TENSOR_V2, null);
        put(w, "torch._utils._rebuild_tensor", Kind.REBUILD_TENSOR, null);
        put(w, "torch._utils._rebuild_parameter", Kind.REBUILD_PARAMETER, null);
        put(w, "torch._utils._rebuild_parameter_with_state", Kind.REBUILD_PARAMETER_WITH_STATE, null);
        for (ElementType t : ElementType.values()) {
            put(w, "torch." + t.storageClass(), Kind.STORAGE_TYPE, t);
            put(w, "torch.cuda." + t.storageClass(), Kind.STORAGE_TYPE, t); // files saved from the GPU by old torch
        }
        WHITELIST = Collections.unmodifiableMap(w);
    }

    private static void put(Map<String, Global> w, String name, Kind kind, ElementType dtype) {
        w.put(name, new Global(name, kind, dtype));
    }

    private static final Object MARK = new Object() {
        @Override
        public String toString() {
            return "MARK";
        }
    };

    private final Path file;
    private final String source;
    private final long baseOffset;
    private final ByteBuffer in;
    private final PersistentLoader persistentLoader;
    private final List<Object> stack = new ArrayList<>();
    private final List<Integer> marks = new ArrayList<>();
    private final Map<Long, Object> memo = new HashMap<>();
    private int opcodeStart;

    /**
     * @param in the pickle from its position (left just after STOP by {@link #load()})
     * @param baseOffset file offset of {@code in}'s position 0, for messages
     * @param source what the pickle is ("data.pkl", "the state-dict pickle"), for messages
     * @param persistentLoader null when the pickle must not hold persistent ids
     */
    RestrictedUnpickler(Path file, String source, ByteBuffer in, long baseOffset, PersistentLoader persistentLoader) {
        this.file = file;
        this.source = source;
        this.in = in.order(ByteOrder.LITTLE_ENDIAN);
        this.baseOffset = baseOffset;
        this.persistentLoader = persistentLoader;
    }

    /** Reads one pickle, up to and including its STOP opcode. */
    Object load() {
        stack.clear();
        marks.clear();
        memo.clear();
        while (true) {
            opcodeStart = in.position();
            int op = u8();
            switch (op) {
                case 0x80: { // PROTO
                    int proto = u8();
                    if (proto > 5) {
                        throw error("unsupported pickle protocol " + proto);
                    }
                    break;
                }
                case 0x95: // FRAME: a length hint only
                    u64("FRAME");
                    break;
                case '.': { // STOP
                    Object result = pop();
                    if (!stack.isEmpty() || !marks.isEmpty()) {
                        throw error("pickle ends with " + stack.size() + " objects left on the stack");
                    }
                    return result;
                }
                case '(':
                    marks.add(stack.size());
                    break;
                case '0':
                    pop();
                    break;
                case '1':
                    popMark();
                    break;
                case '2':
                    push(peek());
                    break;
                case 'N':
                    push(null);
                    break;
                case 0x88:
                    push(Boolean.TRUE);
                    break;
                case 0x89:
                    push(Boolean.FALSE);
                    break;
                case 'J':
                    need(4);
                    push((long) in.getInt());
                    break;
                case 'K':
                    push((long) u8());
                    break;
                case 'M':
                    need(2);
                    push((long) (in.getShort() & 0xffff));
                    break;
                case 0x8a: // LONG1
                    push(readLong(u8()));
                    break;
                case 0x8b: { // LONG4
                    need(4);
                    int n = in.getInt();
                    if (n < 0) {
                        throw error("LONG4 with negative length " + n);
                    }
                    push(readLong(n));
                    break;
                }
                case 'G':
                    need(8);
                    push(in.order(ByteOrder.BIG_ENDIAN).getDouble());
                    in.order(ByteOrder.LITTLE_ENDIAN);
                    break;
                case 'X': // BINUNICODE
                    push(utf8(u32("BINUNICODE")));
                    break;
                case 0x8c: // SHORT_BINUNICODE
                    push(utf8(u8()));
                    break;
                case 0x8d: // BINUNICODE8
                    push(utf8(u64("BINUNICODE8")));
                    break;
                case 'T': { // BINSTRING (Python 2 str; torch.load decodes it as UTF-8)
                    need(4);
                    int n = in.getInt();
                    if (n < 0) {
                        throw error("BINSTRING with negative length " + n);
                    }
                    push(utf8(n));
                    break;
                }
                case 'U': // SHORT_BINSTRING
                    push(utf8(u8()));
                    break;
                case 'C': // SHORT_BINBYTES
                    push(bytes(u8()));
                    break;
                case 'B': // BINBYTES
                    push(bytes(u32("BINBYTES")));
                    break;
                case 0x8e: // BINBYTES8
                    push(bytes(u64("BINBYTES8")));
                    break;
                case '}':
                    push(new PyDict(false));
                    break;
                case ']':
                    push(new ArrayList<>());
                    break;
                case ')':
                    push(new Tuple());
                    break;
                case 'd': { // DICT
                    List<Object> items = popToMark();
                    PyDict d = new PyDict(false);
                    setItems(d, items);
                    push(d);
                    break;
                }
                case 'l': // LIST
                    push(new ArrayList<>(popToMark()));
                    break;
                case 't': // TUPLE
                    push(new Tuple(popToMark().toArray()));
                    break;
                case 0x85: // TUPLE1
                    push(new Tuple(pop()));
                    break;
                case 0x86: { // TUPLE2
                    Object b = pop();
                    Object a = pop();
                    push(new Tuple(a, b));
                    break;
                }
                case 0x87: { // TUPLE3
                    Object c = pop();
                    Object b = pop();
                    Object a = pop();
                    push(new Tuple(a, b, c));
                    break;
                }
                case 'a': { // APPEND
                    Object v = pop();
                    list(peek()).add(v);
                    break;
                }
                case 'e': { // APPENDS
                    List<Object> items = popToMark();
                    list(peek()).addAll(items);
                    break;
                }
                case 's': { // SETITEM
                    Object v = pop();
                    Object k = pop();
                    setItems(dict(peek()), Arrays.asList(k, v));
                    break;
                }
                case 'u': { // SETITEMS
                    List<Object> items = popToMark();
                    setItems(dict(peek()), items);
                    break;
                }
                case 'q': // BINPUT
                    memo.put((long) u8(), peek());
                    break;
                case 'r': // LONG_BINPUT
                    memo.put(u32long(), peek());
                    break;
                case 0x94: // MEMOIZE
                    memo.put((long) memo.size(), peek());
                    break;
                case 'h': // BINGET
                    push(memoGet(u8()));
                    break;
                case 'j': // LONG_BINGET
                    push(memoGet(u32long()));
                    break;
                case 'c': { // GLOBAL
                    String module = line("GLOBAL module");
                    String name = line("GLOBAL name");
                    push(resolve(module, name));
                    break;
                }
                case 0x93: { // STACK_GLOBAL
                    Object name = pop();
                    Object module = pop();
                    if (!(module instanceof String) || !(name instanceof String)) {
                        throw error("STACK_GLOBAL with non-string module or name");
                    }
                    push(resolve((String) module, (String) name));
                    break;
                }
                case 'R': { // REDUCE
                    Object args = pop();
                    Object callable = pop();
                    push(call(callable, tuple(args, "REDUCE arguments"), "REDUCE"));
                    break;
                }
                case 0x81: { // NEWOBJ: cls.__new__(cls, *args); only OrderedDict is constructible
                    Object args = pop();
                    Object cls = pop();
                    push(newObject(cls, args, "NEWOBJ"));
                    break;
                }
                case 0x92: { // NEWOBJ_EX
                    pop(); // kwargs
                    Object args = pop();
                    Object cls = pop();
                    push(newObject(cls, args, "NEWOBJ_EX"));
                    break;
                }
                case 'b': { // BUILD
                    Object state = pop();
                    build(peek(), state);
                    break;
                }
                case 'Q': { // BINPERSID
                    Object pid = pop();
                    if (persistentLoader == null) {
                        throw error("unexpected persistent id " + describe(pid));
                    }
                    push(persistentLoader.load(pid));
                    break;
                }
                default:
                    throw error("unsupported pickle opcode " + opcodeName(op)
                            + " (a state dict needs only plain data, tensors and whitelisted globals)");
            }
        }
    }

    // ---- globals and calls -------------------------------------------------------------------

    private Global resolve(String module, String name) {
        Global g = WHITELIST.get(module + "." + name);
        if (g == null) {
            String q = module + "." + name;
            String hint = "";
            if (module.startsWith("__torch__")) {
                hint = " (this is a TorchScript archive, from torch.jit.save: save model.state_dict() with torch.save instead)";
            } else if (module.startsWith("torchvision") || module.startsWith("torch.nn")) {
                hint = " (the file pickles a whole module, from torch.save(model): save model.state_dict() instead)";
            }
            throw error("refused pickle global '" + q + "'" + hint
                    + ": a state dict may only reference collections.OrderedDict, the torch._utils tensor and "
                    + "parameter rebuild functions and the torch storage types; nothing was executed");
        }
        return g;
    }

    private Object newObject(Object cls, Object args, String opcode) {
        if (cls instanceof Global && ((Global) cls).kind == Kind.ORDERED_DICT) {
            tuple(args, opcode + " arguments");
            return new PyDict(true);
        }
        throw error(opcode + " of " + describe(cls) + " is not supported");
    }

    private Object call(Object callable, Tuple args, String opcode) {
        if (!(callable instanceof Global)) {
            throw error(opcode + " calls " + describe(callable) + ", which is not callable");
        }
        Global g = (Global) callable;
        switch (g.kind) {
            case ORDERED_DICT: {
                PyDict d = new PyDict(true);
                if (args.size() == 1 && args.get(0) instanceof List) {
                    for (Object pair : (List<?>) args.get(0)) {
                        Object[] kv = pair instanceof Tuple ? ((Tuple) pair).items
                                : pair instanceof List ? ((List<?>) pair).toArray() : null;
                        if (kv == null || kv.length != 2) {
                            throw error("OrderedDict item " + describe(pair) + " is not a pair");
                        }
                        setItems(d, Arrays.asList(kv));
                    }
                } else if (args.size() != 0) {
                    throw error("OrderedDict called with " + args.size() + " unsupported arguments");
                }
                return d;
            }
            case REBUILD_TENSOR_V2: {
                // (storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata])
                if (args.size() != 6 && args.size() != 7) {
                    throw error(g + " called with " + args.size() + " arguments, expected 6 or 7");
                }
                if (args.size() == 7 && args.get(6) instanceof Map) {
                    for (Map.Entry<?, ?> e : ((Map<?, ?>) args.get(6)).entrySet()) {
                        if (!Boolean.FALSE.equals(e.getValue())) {
                            throw error(g + ": tensor metadata " + describe(e.getKey()) + "=" + describe(e.getValue())
                                    + " is not supported");
                        }
                    }
                }
                return tensor(g, args);
            }
            case REBUILD_TENSOR:
                // (storage, storage_offset, size, stride)
                if (args.size() != 4) {
                    throw error(g + " called with " + args.size() + " arguments, expected 4");
                }
                return tensor(g, args);
            case REBUILD_PARAMETER:
            case REBUILD_PARAMETER_WITH_STATE: {
                // (data, requires_grad, backward_hooks[, state])
                int expected = g.kind == Kind.REBUILD_PARAMETER ? 3 : 4;
                if (args.size() != expected || !(args.get(0) instanceof TensorRef)) {
                    throw error(g + " called with " + describe(args) + ", expected a tensor and " + (expected - 1)
                            + " more arguments");
                }
                return args.get(0);
            }
            default:
                throw error(opcode + " calls " + g + ", which a state dict never calls");
        }
    }

    private TensorRef tensor(Global g, Tuple args) {
        if (!(args.get(0) instanceof Storage)) {
            throw error(g + ": first argument is " + describe(args.get(0)) + ", not a storage");
        }
        long offset = asLong(args.get(1), g + " storage_offset");
        long[] shape = asLongs(args.get(2), g + " size");
        long[] strides = asLongs(args.get(3), g + " stride");
        return new TensorRef((Storage) args.get(0), offset, shape, strides);
    }

    private void build(Object target, Object state) {
        if (target instanceof PyDict && ((PyDict) target).ordered) {
            // OrderedDict.__reduce__ pickles its __dict__ (torch's state dicts: {'_metadata': ...}).
            Object dictState = state;
            if (state instanceof Tuple && ((Tuple) state).size() == 2) {
                dictState = ((Tuple) state).get(0); // (state, slotstate)
            }
            if (dictState == null) {
                return;
            }
            if (!(dictState instanceof Map)) {
                throw error("BUILD of an OrderedDict with state " + describe(state));
            }
            for (Map.Entry<?, ?> e : ((Map<?, ?>) dictState).entrySet()) {
                if (!(e.getKey() instanceof String)) {
                    throw error("BUILD of an OrderedDict with attribute name " + describe(e.getKey()));
                }
                ((PyDict) target).attributes.put((String) e.getKey(), e.getValue());
            }
            return;
        }
        throw error("BUILD of " + describe(target) + " is not supported");
    }

    // ---- stack ---------------------------------------------------------------------------------

    private void push(Object o) {
        stack.add(o);
    }

    private Object pop() {
        int floor = marks.isEmpty() ? 0 : marks.get(marks.size() - 1);
        if (stack.size() <= floor) {
            throw error("stack underflow");
        }
        return stack.remove(stack.size() - 1);
    }

    private Object peek() {
        int floor = marks.isEmpty() ? 0 : marks.get(marks.size() - 1);
        if (stack.size() <= floor) {
            throw error("stack underflow");
        }
        return stack.get(stack.size() - 1);
    }

    private int popMark() {
        if (marks.isEmpty()) {
            throw error("no MARK on the stack");
        }
        return marks.remove(marks.size() - 1);
    }

    private List<Object> popToMark() {
        int m = popMark();
        List<Object> tail = stack.subList(m, stack.size());
        List<Object> items = new ArrayList<>(tail);
        tail.clear();
        return items;
    }

    private Object memoGet(long key) {
        if (!memo.containsKey(key)) {
            throw error("memo key " + key + " is undefined");
        }
        return memo.get(key);
    }

    @SuppressWarnings("unchecked")
    private List<Object> list(Object o) {
        if (!(o instanceof List)) {
            throw error("APPEND to " + describe(o) + ", not a list");
        }
        return (List<Object>) o;
    }

    private PyDict dict(Object o) {
        if (!(o instanceof PyDict)) {
            throw error("SETITEM on " + describe(o) + ", not a dict");
        }
        return (PyDict) o;
    }

    private void setItems(PyDict d, List<Object> items) {
        if (items.size() % 2 != 0) {
            throw error("odd number of items for a dict");
        }
        for (int i = 0; i < items.size(); i += 2) {
            Object k = items.get(i);
            requireHashable(k, 0);
            d.put(k, items.get(i + 1));
        }
    }

    /**
     * Dict keys must be hashable as in Python (no lists or dicts, even inside tuples), and tuples
     * used as keys are at most {@link #MAX_KEY_DEPTH} deep: hashing and comparing them recurses.
     */
    private void requireHashable(Object k, int depth) {
        if (depth > MAX_KEY_DEPTH) {
            throw error("dict key nested deeper than " + MAX_KEY_DEPTH + " tuples");
        }
        if (k instanceof Tuple) {
            for (Object item : ((Tuple) k).items) {
                requireHashable(item, depth + 1);
            }
        } else if (k instanceof PyDict || k instanceof List || k instanceof byte[]) {
            throw error("unhashable dict key " + describe(k));
        }
    }

    private static final int MAX_KEY_DEPTH = 32;

    private Tuple tuple(Object o, String what) {
        if (!(o instanceof Tuple)) {
            throw error(what + " are " + describe(o) + ", not a tuple");
        }
        return (Tuple) o;
    }

    private long asLong(Object o, String what) {
        if (!(o instanceof Long)) {
            throw error(what + " is " + describe(o) + ", not an int");
        }
        return (Long) o;
    }

    private long[] asLongs(Object o, String what) {
        Object[] items = o instanceof Tuple ? ((Tuple) o).items : o instanceof List ? ((List<?>) o).toArray() : null;
        if (items == null) {
            throw error(what + " is " + describe(o) + ", not a tuple of ints");
        }
        long[] out = new long[items.length];
        for (int i = 0; i < items.length; i++) {
            out[i] = asLong(items[i], what + "[" + i + "]");
        }
        return out;
    }

    // ---- bytes ---------------------------------------------------------------------------------

    private void need(long n) {
        if (n > in.remaining()) {
            throw new CheckpointException(file, "truncated or corrupt: " + source + " needs " + n + " more bytes at byte "
                    + (baseOffset + in.position()) + " but " + (in.remaining() == 0 ? "the file ends there"
                    : "only " + in.remaining() + " remain"));
        }
    }

    private int u8() {
        need(1);
        return in.get() & 0xff;
    }

    private int u32(String what) {
        long n = u32long();
        if (n > Integer.MAX_VALUE) {
            throw error(what + " of " + n + " bytes");
        }
        return (int) n;
    }

    private long u32long() {
        need(4);
        return in.getInt() & 0xffffffffL;
    }

    private int u64(String what) {
        need(8);
        long n = in.getLong();
        if (n < 0 || n > Integer.MAX_VALUE) {
            throw error(what + " of " + Long.toUnsignedString(n) + " bytes");
        }
        return (int) n;
    }

    private byte[] bytes(int n) {
        need(n);
        byte[] b = new byte[n];
        in.get(b);
        return b;
    }

    private String utf8(int n) {
        return new String(bytes(n), StandardCharsets.UTF_8);
    }

    private Object readLong(int n) {
        byte[] le = bytes(n);
        if (n == 0) {
            return 0L;
        }
        byte[] be = new byte[n];
        for (int i = 0; i < n; i++) {
            be[i] = le[n - 1 - i];
        }
        BigInteger v = new BigInteger(be);
        return v.bitLength() < 64 ? (Object) v.longValue() : v;
    }

    private String line(String what) {
        StringBuilder sb = new StringBuilder();
        while (true) {
            int c = u8();
            if (c == '\n') {
                return sb.toString();
            }
            if (c < 0x20 || c > 0x7e || sb.length() > 1000) {
                throw error(what + " is not a printable ASCII line");
            }
            sb.append((char) c);
        }
    }

    // ---- messages ------------------------------------------------------------------------------

    private CheckpointException error(String message) {
        return new CheckpointException(file, message + " (" + source + ", opcode at byte " + (baseOffset + opcodeStart) + ")");
    }

    static String describe(Object o) {
        if (o == null) {
            return "None";
        }
        if (o instanceof String) {
            String s = (String) o;
            return "'" + (s.length() > 60 ? s.substring(0, 60) + "..." : s) + "'";
        }
        if (o instanceof Long || o instanceof BigInteger || o instanceof Double || o instanceof Boolean) {
            return o.toString();
        }
        if (o instanceof Global) {
            return "global " + o;
        }
        if (o instanceof Storage) {
            return "storage '" + ((Storage) o).key + "'";
        }
        if (o instanceof TensorRef) {
            return "a tensor";
        }
        if (o instanceof Tuple) {
            Tuple t = (Tuple) o;
            StringBuilder sb = new StringBuilder("(");
            for (int i = 0; i < t.size() && i < 8; i++) {
                Object item = t.get(i);
                sb.append(i > 0 ? ", " : "").append(item instanceof Tuple ? "a tuple of " + ((Tuple) item).size() : describe(item));
            }
            return sb.append(t.size() > 8 ? ", ...)" : t.size() == 1 ? ",)" : ")").toString();
        }
        if (o instanceof PyDict) {
            return ((PyDict) o).ordered ? "an OrderedDict" : "a dict";
        }
        if (o instanceof List) {
            return "a list";
        }
        if (o instanceof byte[]) {
            return "bytes";
        }
        return o.getClass().getSimpleName();
    }

    private static final Map<Integer, String> OPCODE_NAMES = new HashMap<>();

    static {
        String[] names = {
            "(MARK", ".STOP", "0POP", "1POP_MARK", "2DUP", "FFLOAT", "IINT", "JBININT", "KBININT1", "LLONG",
            "MBININT2", "NNONE", "PPERSID", "QBINPERSID", "RREDUCE", "SSTRING", "TBINSTRING", "USHORT_BINSTRING",
            "VUNICODE", "XBINUNICODE", "aAPPEND", "bBUILD", "cGLOBAL", "dDICT", "}EMPTY_DICT", "eAPPENDS", "gGET",
            "hBINGET", "iINST", "jLONG_BINGET", "lLIST", "]EMPTY_LIST", "oOBJ", "pPUT", "qBINPUT", "rLONG_BINPUT",
            "sSETITEM", "tTUPLE", ")EMPTY_TUPLE", "uSETITEMS", "GBINFLOAT", "BBINBYTES", "CSHORT_BINBYTES",
        };
        for (String n : names) {
            OPCODE_NAMES.put((int) n.charAt(0), n.substring(1));
        }
        String[] high = {"PROTO", "NEWOBJ", "EXT1", "EXT2", "EXT4", "TUPLE1", "TUPLE2", "TUPLE3", "NEWTRUE",
            "NEWFALSE", "LONG1", "LONG4", "SHORT_BINUNICODE", "BINUNICODE8", "BINBYTES8", "EMPTY_SET", "ADDITEMS",
            "FROZENSET", "NEWOBJ_EX", "STACK_GLOBAL", "MEMOIZE", "FRAME", "BYTEARRAY8", "NEXT_BUFFER",
            "READONLY_BUFFER"};
        for (int i = 0; i < high.length; i++) {
            OPCODE_NAMES.put(0x80 + i, high[i]);
        }
    }

    static String opcodeName(int op) {
        String name = OPCODE_NAMES.getOrDefault(op, "unknown");
        String ch = op >= 0x20 && op < 0x7f ? " '" + (char) op + "'" : "";
        return String.format("0x%02x%s (%s)", op, ch, name);
    }
}
