//! Helpers shared by the tests: the service and simulator on port 0 (`app`), scripted AMI
//! servers, a chaos proxy, stream clients, an HAProxy cluster, and the simulator's rigs.

pub mod app;
pub mod chaos;
pub mod ha;
pub mod model_tcp;
pub mod scripted_ami;
pub mod sim;
pub mod stream_client;
pub mod stream_view;
