package dev.maskrcnn4j.testing;

/** Layout conversions between torchvision's NCHW and our NHWC, for tests. */
public final class Layouts {
    private Layouts() {
    }

    public static float[] nchwToNhwc(float[] x, int n, int c, int h, int w) {
        check(x, n, c, h, w);
        float[] out = new float[x.length];
        for (int b = 0; b < n; b++) {
            for (int ch = 0; ch < c; ch++) {
                for (int y = 0; y < h; y++) {
                    for (int xx = 0; xx < w; xx++) {
                        out[((b * h + y) * w + xx) * c + ch] = x[((b * c + ch) * h + y) * w + xx];
                    }
                }
            }
        }
        return out;
    }

    public static float[] nhwcToNchw(float[] x, int n, int c, int h, int w) {
        check(x, n, c, h, w);
        float[] out = new float[x.length];
        for (int b = 0; b < n; b++) {
            for (int ch = 0; ch < c; ch++) {
                for (int y = 0; y < h; y++) {
                    for (int xx = 0; xx < w; xx++) {
                        out[((b * c + ch) * h + y) * w + xx] = x[((b * h + y) * w + xx) * c + ch];
                    }
                }
            }
        }
        return out;
    }

    private static void check(float[] x, int n, int c, int h, int w) {
        if ((long) n * c * h * w != x.length) {
            throw new IllegalArgumentException("array of " + x.length + " for " + n + "x" + c + "x" + h + "x" + w);
        }
    }
}
