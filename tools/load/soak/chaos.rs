//! A chaos TCP proxy in front of the service, on 127.0.0.1 port 0: it forwards each connection
//! and cuts it after a random life (exponentially distributed around a mean, so most die young
//! and a few live long), wherever the bytes happen to be: mid-event, mid-frame, mid-answer.
//! [`ChaosProxy::calm`] stops the cutting (connections open then live on), for the end of a
//! soak. Bounded: at most [`MAX_OPEN`] connections at once; more are closed on arrival.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// Most connections forwarded at once.
pub const MAX_OPEN: usize = 4_096;

/// The proxy; [`ChaosProxy::stop`] (or dropping it) closes everything.
pub struct ChaosProxy {
    addr: SocketAddr,
    calm: CancellationToken,
    stop: CancellationToken,
    cuts: Arc<AtomicU64>,
    accept: JoinHandle<()>,
}

impl ChaosProxy {
    /// A proxy in front of `target` whose connections live `mean_life` on average.
    pub async fn start(
        target: SocketAddr,
        mean_life: Duration,
        seed: u64,
    ) -> std::io::Result<ChaosProxy> {
        let listener = TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0))).await?;
        let addr = listener.local_addr()?;
        let (calm, stop) = (CancellationToken::new(), CancellationToken::new());
        let cuts = Arc::new(AtomicU64::new(0));
        let life = Life {
            rng: StdRng::seed_from_u64(seed),
            mean: mean_life,
        };
        let accept = tokio::spawn(accept_loop(
            listener,
            target,
            life,
            Tools {
                calm: calm.clone(),
                stop: stop.clone(),
                cuts: cuts.clone(),
            },
        ));
        Ok(ChaosProxy {
            addr,
            calm,
            stop,
            cuts,
            accept,
        })
    }

    /// Where clients connect.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Connections cut so far.
    pub fn cuts(&self) -> u64 {
        self.cuts.load(Ordering::Relaxed)
    }

    /// No more cuts: open and new connections live until their peers end them.
    pub fn calm(&self) {
        self.calm.cancel();
    }

    /// Stops accepting and closes every connection.
    pub fn stop(&self) {
        self.stop.cancel();
        self.accept.abort();
    }
}

impl Drop for ChaosProxy {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Draws connection lives.
struct Life {
    rng: StdRng,
    mean: Duration,
}

impl Life {
    fn draw(&mut self) -> Duration {
        let u: f64 = self.rng.gen_range(f64::EPSILON..1.0);
        // Capped so that a draw far in the tail cannot overflow.
        self.mean.mul_f64((-u.ln()).min(50.0))
    }
}

#[derive(Clone)]
struct Tools {
    calm: CancellationToken,
    stop: CancellationToken,
    cuts: Arc<AtomicU64>,
}

async fn accept_loop(listener: TcpListener, target: SocketAddr, mut life: Life, tools: Tools) {
    let open = Arc::new(Semaphore::new(MAX_OPEN));
    while let Ok((client, _)) = listener.accept().await {
        let Ok(permit) = open.clone().try_acquire_owned() else {
            continue;
        };
        let lives = life.draw();
        let tools = tools.clone();
        tokio::spawn(async move {
            let _permit = permit;
            let Ok(server) = TcpStream::connect(target).await else {
                return;
            };
            forward(client, server, lives, tools).await;
            // Both sockets are dropped here: the peers see the connection end.
        });
    }
}

async fn forward(mut client: TcpStream, mut server: TcpStream, lives: Duration, tools: Tools) {
    let _ = client.set_nodelay(true);
    let _ = server.set_nodelay(true);
    let cut = async {
        tokio::select! {
            () = tokio::time::sleep(lives) => {}
            () = tools.calm.cancelled() => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
        () = cut => {
            tools.cuts.fetch_add(1, Ordering::Relaxed);
        }
        () = tools.stop.cancelled() => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    async fn echo_server() -> SocketAddr {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            while let Ok((mut s, _)) = listener.accept().await {
                tokio::spawn(async move {
                    let (mut r, mut w) = s.split();
                    let _ = tokio::io::copy(&mut r, &mut w).await;
                });
            }
        });
        addr
    }

    #[tokio::test]
    async fn cuts_every_connection_after_its_life() {
        let target = echo_server().await;
        let proxy = ChaosProxy::start(target, Duration::from_millis(20), 7)
            .await
            .unwrap();
        for n in 1..=3 {
            let mut c = TcpStream::connect(proxy.addr()).await.unwrap();
            let mut rest = Vec::new();
            let ended = tokio::time::timeout(Duration::from_secs(10), c.read_to_end(&mut rest));
            assert!(ended.await.is_ok(), "connection {n} was cut");
            assert_eq!(proxy.cuts(), n);
        }
    }

    #[tokio::test]
    async fn a_calm_proxy_forwards_without_cutting() {
        let target = echo_server().await;
        // A mean life of 1 ms: without calm, a connection would not live 200 ms.
        let proxy = ChaosProxy::start(target, Duration::from_millis(1), 7)
            .await
            .unwrap();
        proxy.calm();
        let mut c = TcpStream::connect(proxy.addr()).await.unwrap();
        let mut buf = [0u8; 4];
        for _ in 0..4 {
            tokio::time::sleep(Duration::from_millis(50)).await;
            c.write_all(b"ping").await.unwrap();
            c.read_exact(&mut buf).await.unwrap();
            assert_eq!(&buf, b"ping");
        }
        assert_eq!(proxy.cuts(), 0);
    }
}
