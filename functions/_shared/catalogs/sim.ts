/**
 * The simulated sky as a reference catalog: what Gaia would report for the
 * {@linkcode SimSky}'s stars (G <= its gaiaFaintMag, with errors).
 *
 * @module
 */
import type { SimSky } from "../sim/sky.ts";
import type { CatalogSource, RefStar, SkyRect } from "./catalog.ts";

/** SimSky as a {@linkcode CatalogSource}. */
export class SimSkySource implements CatalogSource {
  readonly name = "simsky";
  constructor(readonly sky: SimSky) {}

  rect(rect: SkyRect): Promise<RefStar[]> {
    return Promise.resolve(this.sky.gaiaRect(rect));
  }
}
