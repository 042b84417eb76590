import type { JobDefinition } from '../core/define-job.js';
import { csvTransform } from './csv-transform/job.js';
import { documentPdf } from './document-pdf/job.js';
import { imageThumbnail } from './image-thumbnail/job.js';

export { csvTransform, documentPdf, imageThumbnail };

/** Job types every jobshift process knows. */
export const builtinJobs: readonly JobDefinition[] = [documentPdf, imageThumbnail, csvTransform] as JobDefinition[];
