import assert from "node:assert/strict";
import { readFits } from "../fits/reader.ts";
import { renderExposure } from "../sim/camera.ts";
import { exposureFits } from "../sim/output.ts";
import { SimSky } from "../sim/sky.ts";
import { DECam } from "./decam.ts";
import { SimCam } from "./simcam.ts";

Deno.test("DECam: an fpack'ed DECam-format raw file read through the fits module", async () => {
  const cam = new SimCam({ nCcd: 2, ccdNx: 128, ccdNy: 256 });
  const exp = renderExposure(cam, new SimSky({ seed: 2 }), {
    ra: 52.5,
    dec: -27.9,
    mjd: 60300.05,
    band: "z",
    expnum: 777,
  });
  const dir = await Deno.makeTempDir({ prefix: "skydiff_decam_" });
  try {
    const plain = `${dir}/c4d_raw.fits`;
    await Deno.writeFile(plain, exposureFits(exp));
    // the real fpack when installed (libcfitsio-bin), else our own Rice writer
    let bytes: Uint8Array;
    try {
      const r = await new Deno.Command("fpack", { args: ["-O", `${plain}.fz`, plain] }).output();
      if (!r.success) throw new Error(new TextDecoder().decode(r.stderr));
      bytes = await Deno.readFile(`${plain}.fz`);
    } catch (err) {
      if (!(err instanceof Deno.errors.NotFound)) throw err;
      bytes = exposureFits(exp, true);
    }
    const f = await readFits(bytes);
    const decam = new DECam();
    const info = decam.exposureInfo((await f.hdu(0)).header);
    assert.equal(info.band, "z");
    assert.equal(info.expnum, 777);
    assert.ok(Math.abs(info.ra - 52.5) < 1e-5 && Math.abs(info.dec + 27.9) < 1e-4);
    let ccds = 0;
    for (const h of await f.hdus()) {
      const id = decam.sectionOf(h.header);
      if (!id) continue;
      ccds++;
      const lay = decam.layout(h.header);
      const img = await h.readImage();
      assert.deepEqual(img.axes, [lay.rawNx, lay.rawNy]);
      const c = exp.ccds.find((x) => x.id === id)!;
      assert.deepEqual(Array.from(img.data as Uint16Array), Array.from(c.raw));
      for (const [i, a] of lay.amps.entries()) {
        assert.equal(a.gain, cam.ccd(id).amps[i].gain);
        assert.equal(a.data.x1 - a.data.x0, 64);
      }
    }
    assert.equal(ccds, 2);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
