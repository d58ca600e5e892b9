// run.js — run ONNX models in onnxruntime-web (WASM backend, one thread) on CSV inputs.
//   node run.js JOBS.txt
// Each line of JOBS.txt is one run: `MODEL.onnx OUT.csv NAME=IN.csv ...`. An IN.csv holds one
// row per batch item; the model's first output is written to OUT.csv the same way (one row per
// batch item, flattened). Used by tests/integ_onnx.sh.
'use strict';
const fs = require('fs');
const ort = require('onnxruntime-web');

function readCsv(path) {
    const rows = fs.readFileSync(path, 'utf8').split('\n').filter((l) => l.trim() !== '');
    const data = rows.map((l) => l.split(',').map(Number));
    return { rows: data.length, cols: data[0].length, flat: Float32Array.from(data.flat()) };
}

async function runOne(model, out, inputs) {
    const session = await ort.InferenceSession.create(fs.readFileSync(model), {
        executionProviders: ['wasm'],
    });
    const feeds = {};
    for (const a of inputs) {
        const [name, file] = a.split('=');
        const m = readCsv(file);
        feeds[name] = new ort.Tensor('float32', m.flat, [m.rows, m.cols]);
    }
    const res = await session.run(feeds);
    const t = res[session.outputNames[0]];
    const per = t.data.length / t.dims[0];
    const lines = [];
    for (let i = 0; i < t.dims[0]; i++) {
        const row = Array.from(t.data.slice(i * per, (i + 1) * per), (v) => v.toPrecision(9));
        lines.push(row.join(','));
    }
    fs.writeFileSync(out, lines.join('\n') + '\n');
}

async function main() {
    ort.env.wasm.numThreads = 1;
    const jobs = fs.readFileSync(process.argv[2], 'utf8').split('\n').filter((l) => l.trim());
    for (const j of jobs) {
        const [model, out, ...inputs] = j.trim().split(/\s+/);
        await runOne(model, out, inputs);
    }
}

main().catch((e) => {
    console.error('run.js: ' + (e && e.message ? e.message : e));
    process.exit(1);
});
