export {
  builtinEventsDir,
  builtinFixturesDir,
  builtinScenariosDir,
  builtinSystems,
  builtinTopologyDir,
} from './paths.js'
export {
  clearProjectCache,
  findProjectFile,
  loadProject,
  type Project,
  type ProjectBrokerDefaults,
  type ProjectPublishDefaults,
  projectBrokerDefaults,
} from './project.js'
export {PROJECT_FILE_NAMES, PROJECT_SCHEMA} from './schema.js'
