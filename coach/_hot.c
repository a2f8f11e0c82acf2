/* The matcher's per-character and prefilter loops in C (coach/_native.py says when it is used).
 *
 * Everything here has a plain-Python twin that stays the reference: coach/phrasebook/normalize.py
 * (normalize, sound_text, coarse_text), the byte alphabets' encode (coach/matcher/matcher.py,
 * coach/phrasebook/patterns.py) and Prefilter.met + members (patterns.py).  This file only runs
 * the same loops without a Python object per character, and the prefilter's bit sets as arrays of
 * 64-bit words instead of one big integer rebuilt at every OR.  tests/test_hot.py holds the two
 * to the same answers.
 *
 * CharMap(fallback, bytes=False): a memo of a per-character function.  A character seen for the
 * first time is given to ``fallback`` (the Python memo's own look-up), which answers a str (a
 * character map: '' dropped, one character, several characters) or an int 0-255 (a byte map).
 *   map(text)          -> str with every character mapped (None if one maps to other than 1 char)
 *   encode(text)       -> bytes, one per character (byte maps)
 *   fold(text, marks)  -> (chars, index, breaks) as normalize() builds them, or None where a
 *                         character folds to several (the caller takes the long way)
 * Masks(masks, start, size, lanes): Prefilter's bit sets.
 *   members(data, lo, hi) -> the members lo..hi-1 whose lanes all meet one-byte ``data``,
 *                            counted from lo; the answer for the last ``data`` object is kept.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

#define EMPTY 0u                 /* slot key: codepoint + 1, so 0 is free */
#define DROPPED 0xFFFFFFFFu      /* value: the character maps to '' */
#define SEVERAL 0xFFFFFFFEu      /* value: the character maps to several characters */

typedef struct {
    uint32_t key;
    uint32_t val;
} Slot;

typedef struct {
    PyObject_HEAD
    PyObject *fallback;
    int bytes;
    Slot *slots;
    size_t cap;                  /* a power of two */
    size_t used;
} CharMap;

static inline size_t slot_of(uint32_t key, size_t cap)
{
    return (size_t)((key * 2654435761u) >> 7) & (cap - 1);
}

static int charmap_grow(CharMap *self)
{
    size_t cap = self->cap ? self->cap * 2 : 256;
    Slot *slots = PyMem_Calloc(cap, sizeof(Slot));
    if (!slots) {
        PyErr_NoMemory();
        return -1;
    }
    for (size_t i = 0; i < self->cap; i++) {
        Slot s = self->slots[i];
        if (s.key == EMPTY)
            continue;
        size_t j = slot_of(s.key, cap);
        while (slots[j].key != EMPTY)
            j = (j + 1) & (cap - 1);
        slots[j] = s;
    }
    PyMem_Free(self->slots);
    self->slots = slots;
    self->cap = cap;
    return 0;
}

/* The value of codepoint ``cp``; on a miss the fallback is asked.  Returns -1 with an exception set. */
static int charmap_get(CharMap *self, Py_UCS4 cp, uint32_t *out)
{
    if (!self->slots) {
        PyErr_SetString(PyExc_RuntimeError, "CharMap: not initialised");
        return -1;
    }
    uint32_t key = (uint32_t)cp + 1u;
    size_t j = slot_of(key, self->cap);
    for (;;) {
        Slot s = self->slots[j];
        if (s.key == key) {
            *out = s.val;
            return 0;
        }
        if (s.key == EMPTY)
            break;
        j = (j + 1) & (self->cap - 1);
    }
    PyObject *ch = PyUnicode_FromOrdinal((int)cp);
    if (!ch)
        return -1;
    PyObject *got = PyObject_CallOneArg(self->fallback, ch);
    Py_DECREF(ch);
    if (!got)
        return -1;
    uint32_t val;
    if (self->bytes) {
        long b = PyLong_AsLong(got);
        Py_DECREF(got);
        if (b == -1 && PyErr_Occurred())
            return -1;
        if (b < 0 || b > 255) {
            PyErr_Format(PyExc_ValueError, "CharMap: a byte map gave %ld for U+%04X", b, (unsigned)cp);
            return -1;
        }
        val = (uint32_t)b;
    } else {
        if (!PyUnicode_Check(got)) {
            Py_DECREF(got);
            PyErr_SetString(PyExc_TypeError, "CharMap: a character map must give str");
            return -1;
        }
        Py_ssize_t n = PyUnicode_GET_LENGTH(got);
        val = n == 0 ? DROPPED : n == 1 ? (uint32_t)PyUnicode_READ_CHAR(got, 0) : SEVERAL;
        Py_DECREF(got);
    }
    if (2 * (self->used + 1) > self->cap && charmap_grow(self) < 0)
        return -1;
    j = slot_of(key, self->cap);
    while (self->slots[j].key != EMPTY)
        j = (j + 1) & (self->cap - 1);
    self->slots[j].key = key;
    self->slots[j].val = val;
    self->used++;
    *out = val;
    return 0;
}

static int charmap_init(CharMap *self, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"fallback", "bytes", NULL};
    PyObject *fallback;
    int bytes = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "O|p", kwlist, &fallback, &bytes))
        return -1;
    if (!PyCallable_Check(fallback)) {
        PyErr_SetString(PyExc_TypeError, "CharMap: fallback must be callable");
        return -1;
    }
    Py_INCREF(fallback);
    Py_XSETREF(self->fallback, fallback);
    self->bytes = bytes;
    PyMem_Free(self->slots);
    self->slots = NULL;
    self->cap = self->used = 0;
    return charmap_grow(self);
}

static void charmap_dealloc(CharMap *self)
{
    Py_XDECREF(self->fallback);
    PyMem_Free(self->slots);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyObject *charmap_map(CharMap *self, PyObject *text)
{
    if (!PyUnicode_Check(text) || self->bytes) {
        PyErr_SetString(PyExc_TypeError, "CharMap.map: a character map and a str");
        return NULL;
    }
    Py_ssize_t n = PyUnicode_GET_LENGTH(text);
    int kind = PyUnicode_KIND(text);
    const void *data = PyUnicode_DATA(text);
    Py_UCS4 stack[256];
    Py_UCS4 *out = n <= 256 ? stack : PyMem_Malloc(sizeof(Py_UCS4) * (size_t)n);
    if (!out)
        return PyErr_NoMemory();
    PyObject *result = NULL;
    for (Py_ssize_t i = 0; i < n; i++) {
        uint32_t v;
        if (charmap_get(self, PyUnicode_READ(kind, data, i), &v) < 0)
            goto done;
        if (v == DROPPED || v == SEVERAL) {
            result = Py_NewRef(Py_None);
            goto done;
        }
        out[i] = v;
    }
    result = PyUnicode_FromKindAndData(PyUnicode_4BYTE_KIND, out, n);
done:
    if (out != stack)
        PyMem_Free(out);
    return result;
}

static PyObject *charmap_encode(CharMap *self, PyObject *text)
{
    if (!PyUnicode_Check(text) || !self->bytes) {
        PyErr_SetString(PyExc_TypeError, "CharMap.encode: a byte map and a str");
        return NULL;
    }
    Py_ssize_t n = PyUnicode_GET_LENGTH(text);
    int kind = PyUnicode_KIND(text);
    const void *data = PyUnicode_DATA(text);
    PyObject *result = PyBytes_FromStringAndSize(NULL, n);
    if (!result)
        return NULL;
    unsigned char *out = (unsigned char *)PyBytes_AS_STRING(result);
    for (Py_ssize_t i = 0; i < n; i++) {
        uint32_t v;
        if (charmap_get(self, PyUnicode_READ(kind, data, i), &v) < 0) {
            Py_DECREF(result);
            return NULL;
        }
        out[i] = (unsigned char)v;
    }
    return result;
}

static PyObject *charmap_fold(CharMap *self, PyObject *args)
{
    PyObject *text, *marks;
    if (!PyArg_ParseTuple(args, "UU", &text, &marks))
        return NULL;
    if (self->bytes) {
        PyErr_SetString(PyExc_TypeError, "CharMap.fold: a character map");
        return NULL;
    }
    Py_ssize_t n = PyUnicode_GET_LENGTH(text);
    int kind = PyUnicode_KIND(text);
    const void *data = PyUnicode_DATA(text);
    Py_UCS4 *chars = PyMem_Malloc(sizeof(Py_UCS4) * (size_t)(n ? n : 1));
    Py_ssize_t *index = PyMem_Malloc(sizeof(Py_ssize_t) * (size_t)(n ? n : 1));
    char *breaks = PyMem_Calloc((size_t)(n ? n : 1), 1);
    PyObject *result = NULL, *s = NULL, *ix = NULL, *br = NULL;
    if (!chars || !index || !breaks) {
        PyErr_NoMemory();
        goto done;
    }
    Py_ssize_t kept = 0;
    int pending = 0;                 /* clause punctuation dropped since the last kept character */
    for (Py_ssize_t i = 0; i < n; i++) {
        Py_UCS4 cp = PyUnicode_READ(kind, data, i);
        uint32_t v;
        if (charmap_get(self, cp, &v) < 0)
            goto done;
        if (v == SEVERAL) {          /* a ligature, ㎏: the long way */
            result = Py_NewRef(Py_None);
            goto done;
        }
        if (v == DROPPED) {
            if (!pending && PyUnicode_FindChar(marks, cp, 0, PyUnicode_GET_LENGTH(marks), 1) >= 0)
                pending = 1;
            continue;
        }
        if (pending && kept > 0)     /* the kept character right after the mark */
            breaks[kept] = 1;
        pending = 0;
        chars[kept] = v;
        index[kept] = i;
        kept++;
    }
    s = PyUnicode_FromKindAndData(PyUnicode_4BYTE_KIND, chars, kept);
    ix = PyTuple_New(kept);
    br = PyTuple_New(kept);
    if (!s || !ix || !br)
        goto done;
    for (Py_ssize_t k = 0; k < kept; k++) {
        PyObject *at = PyLong_FromSsize_t(index[k]);
        if (!at)
            goto done;
        PyTuple_SET_ITEM(ix, k, at);
        PyTuple_SET_ITEM(br, k, Py_NewRef(breaks[k] ? Py_True : Py_False));
    }
    result = PyTuple_Pack(3, s, ix, br);
done:
    Py_XDECREF(s);
    Py_XDECREF(ix);
    Py_XDECREF(br);
    PyMem_Free(chars);
    PyMem_Free(index);
    PyMem_Free(breaks);
    return result;
}

static PyMethodDef charmap_methods[] = {
    {"map", (PyCFunction)charmap_map, METH_O, "every character mapped (None if one maps to other than one)"},
    {"encode", (PyCFunction)charmap_encode, METH_O, "one byte per character"},
    {"fold", (PyCFunction)charmap_fold, METH_VARARGS, "(chars, index, breaks), or None for the long way"},
    {NULL, NULL, 0, NULL},
};

static PyTypeObject CharMapType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "coach._hot.CharMap",
    .tp_basicsize = sizeof(CharMap),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)charmap_init,
    .tp_dealloc = (destructor)charmap_dealloc,
    .tp_methods = charmap_methods,
    .tp_doc = "A memo of a per-character function, mapping whole strings in C.",
};

/* ---- Prefilter bit sets -------------------------------------------------------------------- */

#define ITEMS 65536              /* a byte (1-255) or a pair a << 8 | b (a >= 1): below 65536 */

typedef struct {
    PyObject_HEAD
    Py_ssize_t size, lanes, nwords;
    uint32_t *off;               /* ITEMS + 1 offsets into word/val: the item's nonzero words */
    uint32_t *word;
    uint64_t *val;
    uint64_t *start;             /* nwords: lanes a member has no clause for */
    uint64_t *found;             /* nwords: the masks OR-ed for the last data */
    PyObject *last;              /* that data (kept alive, compared by identity) */
} Masks;

/* ``x`` (a non-negative int) as nwords * 8 little-endian bytes (a new reference). */
static PyObject *int_to_bytes(PyObject *x, Py_ssize_t nwords)
{
    return PyObject_CallMethod(x, "to_bytes", "ns", nwords * 8, "little");
}

/* Word ``w`` of such bytes. */
static inline uint64_t word_of(PyObject *b, Py_ssize_t w)
{
    const unsigned char *p = (const unsigned char *)PyBytes_AS_STRING(b) + w * 8;
    uint64_t v = 0;
    for (int k = 7; k >= 0; k--)
        v = v << 8 | p[k];
    return v;
}

static int masks_init(Masks *self, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"masks", "start", "size", "lanes", NULL};
    PyObject *masks, *start;
    Py_ssize_t size, lanes;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "O!Onn", kwlist, &PyDict_Type, &masks, &start, &size, &lanes))
        return -1;
    if (size < 0 || lanes < 1) {
        PyErr_SetString(PyExc_ValueError, "Masks: size >= 0 and lanes >= 1");
        return -1;
    }
    Py_ssize_t nwords = (size * lanes + 63) / 64 + 1;       /* one spare: reads past the end see 0 */
    PyObject **item_words = PyMem_Calloc(ITEMS, sizeof(PyObject *));   /* each item's mask as bytes */
    PyObject *start_words = NULL;
    int rc = -1;
    if (!item_words) {
        PyErr_NoMemory();
        goto done;
    }
    self->size = size;
    self->lanes = lanes;
    self->nwords = nwords;
    PyObject *key, *value;
    Py_ssize_t pos = 0;
    size_t total = 0;
    while (PyDict_Next(masks, &pos, &key, &value)) {
        long item = PyLong_AsLong(key);
        if (item == -1 && PyErr_Occurred())
            goto done;
        if (item < 1 || item >= ITEMS) {
            PyErr_Format(PyExc_ValueError, "Masks: item %ld is neither a byte nor a pair", item);
            goto done;
        }
        PyObject *b = int_to_bytes(value, nwords);
        if (!b)
            goto done;
        Py_XSETREF(item_words[item], b);
        for (Py_ssize_t w = 0; w < nwords; w++)
            total += word_of(b, w) != 0;
    }
    start_words = int_to_bytes(start, nwords);
    if (!start_words)
        goto done;
    PyMem_Free(self->off);
    PyMem_Free(self->word);
    PyMem_Free(self->val);
    PyMem_Free(self->start);
    PyMem_Free(self->found);
    self->off = PyMem_Malloc((ITEMS + 1) * sizeof(uint32_t));
    self->word = PyMem_Malloc((total ? total : 1) * sizeof(uint32_t));
    self->val = PyMem_Malloc((total ? total : 1) * sizeof(uint64_t));
    self->start = PyMem_Calloc((size_t)nwords, sizeof(uint64_t));
    self->found = PyMem_Calloc((size_t)nwords, sizeof(uint64_t));
    Py_CLEAR(self->last);
    if (!self->off || !self->word || !self->val || !self->start || !self->found) {
        PyErr_NoMemory();
        goto done;
    }
    uint32_t at = 0;
    for (Py_ssize_t item = 0; item < ITEMS; item++) {
        self->off[item] = at;
        if (!item_words[item])
            continue;
        for (Py_ssize_t w = 0; w < nwords; w++) {
            uint64_t v = word_of(item_words[item], w);
            if (v) {
                self->word[at] = (uint32_t)w;
                self->val[at] = v;
                at++;
            }
        }
    }
    self->off[ITEMS] = at;
    for (Py_ssize_t w = 0; w < nwords; w++)
        self->start[w] = word_of(start_words, w);
    rc = 0;
done:
    if (item_words) {
        for (Py_ssize_t item = 0; item < ITEMS; item++)
            Py_XDECREF(item_words[item]);
        PyMem_Free(item_words);
    }
    Py_XDECREF(start_words);
    return rc;
}

static void masks_dealloc(Masks *self)
{
    PyMem_Free(self->off);
    PyMem_Free(self->word);
    PyMem_Free(self->val);
    PyMem_Free(self->start);
    PyMem_Free(self->found);
    Py_XDECREF(self->last);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static inline void or_item(Masks *self, uint32_t item)
{
    uint32_t a = self->off[item], b = self->off[item + 1];
    for (uint32_t k = a; k < b; k++)
        self->found[self->word[k]] |= self->val[k];
}

/* 64 bits of ``found`` from bit ``pos`` on (bits past the end read 0). */
static inline uint64_t bits_at(const uint64_t *found, Py_ssize_t nwords, Py_ssize_t pos)
{
    Py_ssize_t w = pos >> 6;
    int sh = (int)(pos & 63);
    if (w >= nwords)
        return 0;
    uint64_t lo = found[w] >> sh;
    if (sh && w + 1 < nwords)
        lo |= found[w + 1] << (64 - sh);
    return lo;
}

static PyObject *masks_members(Masks *self, PyObject *args)
{
    PyObject *data;
    Py_ssize_t lo, hi;
    if (!PyArg_ParseTuple(args, "O!nn", &PyBytes_Type, &data, &lo, &hi))
        return NULL;
    if (!self->off) {
        PyErr_SetString(PyExc_RuntimeError, "Masks: not initialised");
        return NULL;
    }
    if (lo < 0 || hi > self->size || lo > hi) {
        PyErr_SetString(PyExc_ValueError, "Masks.members: 0 <= lo <= hi <= size");
        return NULL;
    }
    if (data != self->last) {
        memcpy(self->found, self->start, (size_t)self->nwords * sizeof(uint64_t));
        const unsigned char *p = (const unsigned char *)PyBytes_AS_STRING(data);
        Py_ssize_t n = PyBytes_GET_SIZE(data);
        unsigned prev = 0;                /* no byte before (the alphabets never use byte 0) */
        for (Py_ssize_t i = 0; i < n; i++) {
            unsigned b = p[i];
            or_item(self, b);             /* item 0 has no words */
            if (prev)
                or_item(self, prev << 8 | b);
            prev = b;
        }
        Py_INCREF(data);
        Py_XSETREF(self->last, data);
    }
    PyObject *out = PyList_New(0);
    if (!out)
        return NULL;
    for (Py_ssize_t k = lo; k < hi; k += 64) {
        uint64_t left = bits_at(self->found, self->nwords, k);
        for (Py_ssize_t lane = 1; lane < self->lanes; lane++)
            left &= bits_at(self->found, self->nwords, lane * self->size + k);
        if (hi - k < 64)
            left &= ((uint64_t)1 << (hi - k)) - 1;
        while (left) {
            int bit = __builtin_ctzll(left);
            PyObject *m = PyLong_FromSsize_t(k - lo + bit);
            if (!m || PyList_Append(out, m) < 0) {
                Py_XDECREF(m);
                Py_DECREF(out);
                return NULL;
            }
            Py_DECREF(m);
            left &= left - 1;
        }
    }
    return out;
}

static PyMethodDef masks_methods[] = {
    {"members", (PyCFunction)masks_members, METH_VARARGS, "members lo..hi-1 met by one-byte data, from lo"},
    {NULL, NULL, 0, NULL},
};

static PyTypeObject MasksType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "coach._hot.Masks",
    .tp_basicsize = sizeof(Masks),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)masks_init,
    .tp_dealloc = (destructor)masks_dealloc,
    .tp_methods = masks_methods,
    .tp_doc = "A Prefilter's bit sets as 64-bit words.",
};

static struct PyModuleDef hot_module = {
    PyModuleDef_HEAD_INIT, "coach._hot", "The matcher's per-character and prefilter loops in C.", -1, NULL,
};

PyMODINIT_FUNC PyInit__hot(void)
{
    if (PyType_Ready(&CharMapType) < 0 || PyType_Ready(&MasksType) < 0)
        return NULL;
    PyObject *m = PyModule_Create(&hot_module);
    if (!m)
        return NULL;
    if (PyModule_AddObjectRef(m, "CharMap", (PyObject *)&CharMapType) < 0
        || PyModule_AddObjectRef(m, "Masks", (PyObject *)&MasksType) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
