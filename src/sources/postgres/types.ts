export { rawTextTypes } from '../../pgclient/options.ts'
