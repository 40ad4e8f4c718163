export { createTopics, showLag } from './topics-command.js';
