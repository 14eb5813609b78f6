import AppPropertiesProvider from './AppPropertiesProvider.jsx';

export default {
  __init__: [ 'appPropertiesProvider' ],
  appPropertiesProvider: [ 'type', AppPropertiesProvider ]
};
